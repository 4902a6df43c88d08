#include "env/storage/guarded_copy.h"

#include <setjmp.h>
#include <signal.h>

#include <atomic>
#include <cstring>
#include <mutex>

namespace segwal {
namespace {

// Set while this thread copies. volatile, with signal fences around the
// copy: the compiler must not move the store past the copy, which it may
// otherwise (nothing in memcpy reads it).
thread_local sigjmp_buf* volatile copy_jump = nullptr;
struct sigaction previous_action;

void OnSigbus(int signal, siginfo_t* info, void* context) {
  if (copy_jump != nullptr) siglongjmp(*copy_jump, 1);
  // Not one of our copies: as if we had never been installed.
  if (previous_action.sa_flags & SA_SIGINFO) {
    if (previous_action.sa_sigaction != nullptr) {
      previous_action.sa_sigaction(signal, info, context);
      return;
    }
  } else if (previous_action.sa_handler != SIG_DFL &&
             previous_action.sa_handler != SIG_IGN) {
    previous_action.sa_handler(signal);
    return;
  }
  ::signal(SIGBUS, SIG_DFL);
  ::raise(SIGBUS);
}

void Install() {
  struct sigaction action;
  std::memset(&action, 0, sizeof(action));
  action.sa_sigaction = OnSigbus;
  // SA_NODEFER: the jump out of the handler leaves SIGBUS unblocked
  // without saving and restoring the signal mask (a system call) on every
  // copy.
  action.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&action.sa_mask);
  sigaction(SIGBUS, &action, &previous_action);
}

}  // namespace

bool GuardedCopy(char* dst, const char* src, size_t n) {
  static std::once_flag installed;
  std::call_once(installed, Install);
  sigjmp_buf jump;
  if (sigsetjmp(jump, 0) != 0) {
    copy_jump = nullptr;
    return false;
  }
  copy_jump = &jump;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  std::memcpy(dst, src, n);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  copy_jump = nullptr;
  return true;
}

}  // namespace segwal
