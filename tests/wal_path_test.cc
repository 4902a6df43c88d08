#include "env/fs/wal_path.h"

#include <unistd.h>

#include <string>

#include "gtest/gtest.h"

namespace segwal {
namespace {

TEST(WalPathTest, WalFileNames) {
  EXPECT_TRUE(IsWalFileName("000003.log"));
  EXPECT_TRUE(IsWalFileName("/db/000003.log"));
  EXPECT_TRUE(IsWalFileName("/db/archive/123456789012345.log"));
  EXPECT_TRUE(IsWalFileName("relative/dir/7.log"));
  EXPECT_FALSE(IsWalFileName(".log"));
  EXPECT_FALSE(IsWalFileName("/db/.log"));
  EXPECT_FALSE(IsWalFileName("/db/LOG"));
  EXPECT_FALSE(IsWalFileName("/db/LOG.old.1234"));
  EXPECT_FALSE(IsWalFileName("/db/000003.log.trash"));
  EXPECT_FALSE(IsWalFileName("/db/000003.sst"));
  EXPECT_FALSE(IsWalFileName("/db/MANIFEST-000004"));
  EXPECT_FALSE(IsWalFileName("/db/a3.log"));
  EXPECT_FALSE(IsWalFileName("/db/3a.log"));
  EXPECT_FALSE(IsWalFileName("/db/-3.log"));
  EXPECT_FALSE(IsWalFileName("/db/000003.LOG"));
  EXPECT_FALSE(IsWalFileName("/db/000003.log/"));
  // The directory does not matter, only the base name.
  EXPECT_FALSE(IsWalFileName("/db/000003.log/x"));
  EXPECT_TRUE(IsWalFileName("/db/x.y/000003.log"));
}

TEST(WalPathTest, NormalizeAbsolute) {
  EXPECT_EQ("/", NormalizePath("/"));
  EXPECT_EQ("/", NormalizePath("//"));
  EXPECT_EQ("/", NormalizePath("/./"));
  EXPECT_EQ("/db", NormalizePath("/db"));
  EXPECT_EQ("/db", NormalizePath("/db/"));
  EXPECT_EQ("/db", NormalizePath("/db///"));
  EXPECT_EQ("/db/x", NormalizePath("//db//x"));
  EXPECT_EQ("/db/x", NormalizePath("/db/./x"));
  EXPECT_EQ("/db/x", NormalizePath("/./db/././x/."));
  EXPECT_EQ("/db/000003.log", NormalizePath("/db//./000003.log"));
  // ".." is kept: lexical resolution would be wrong across symlinks.
  EXPECT_EQ("/db/../x", NormalizePath("/db/../x"));
  // Names that only start with a dot are names.
  EXPECT_EQ("/db/.hidden/..x", NormalizePath("/db/.hidden/..x"));
}

TEST(WalPathTest, NormalizeRelative) {
  char buf[4096];
  ASSERT_NE(nullptr, getcwd(buf, sizeof(buf)));
  const std::string cwd = buf;
  const std::string base = cwd == "/" ? "" : cwd;
  EXPECT_EQ(base + "/db", NormalizePath("db"));
  EXPECT_EQ(base + "/db", NormalizePath("./db/"));
  EXPECT_EQ(base + "/db/000003.log", NormalizePath("db//000003.log"));
  EXPECT_EQ(cwd, NormalizePath(""));
  EXPECT_EQ(cwd, NormalizePath("."));
}

TEST(WalPathTest, DirAndBaseNames) {
  EXPECT_EQ("/a", DirName("/a/b"));
  EXPECT_EQ("/", DirName("/a"));
  EXPECT_EQ("/", DirName("/"));
  EXPECT_EQ("b", BaseName("/a/b"));
  EXPECT_EQ("a", BaseName("/a"));
  EXPECT_EQ("", BaseName("/"));
  EXPECT_EQ("/a/b", JoinPath("/a", "b"));
  EXPECT_EQ("/b", JoinPath("/", "b"));
}

TEST(WalPathTest, OwnerDirectory) {
  EXPECT_EQ("/db", WalOwnerDir("/db/000003.log"));
  EXPECT_EQ("/db", WalOwnerDir("/db/archive/000003.log"));
  EXPECT_EQ("/wal/dir", WalOwnerDir("/wal/dir/000010.log"));
  EXPECT_EQ("/", WalOwnerDir("/000003.log"));
  EXPECT_EQ("/", WalOwnerDir("/archive/000003.log"));
  // Only a directory named exactly "archive" is an archive.
  EXPECT_EQ("/db/archived", WalOwnerDir("/db/archived/000003.log"));
  EXPECT_EQ("/db/x", WalOwnerDir("/db/x/000003.log"));
}

TEST(WalPathTest, IsUnder) {
  EXPECT_TRUE(IsUnder("/a/b", "/a"));
  EXPECT_TRUE(IsUnder("/a", "/a"));
  EXPECT_TRUE(IsUnder("/a/b/c", "/a/b"));
  EXPECT_FALSE(IsUnder("/ab", "/a"));
  EXPECT_FALSE(IsUnder("/a", "/a/b"));
  EXPECT_TRUE(IsUnder("/a", "/"));
}

}  // namespace
}  // namespace segwal
