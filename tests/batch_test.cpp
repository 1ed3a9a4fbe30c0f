// benchdnn batch files: what benchdnn reads as a descriptor, a comment, an option.
#include "reference/batch.hpp"
#include "reference/input.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace convconf {
namespace {

using Options = std::map<std::string, std::string>;

TEST(Batch, DescriptorsCommentsAndBlankLines) {
    const auto entries = parse_batch(
        "# resnet_50\n"
        "\n"
        "mb1ic64ih56oc64oh56kh1ph0n\"resnet_50:res2a_branch2a\"\n"
        "# mb1ic64ih56oc256oh56kh1ph0n\"resnet_50:res2a_branch2c\"   # res2a_branch1\n"
        "  mb1ic3ih5oc2kh3   mb1ic3ih5oc2kh1  # two on one line, then a comment\n",
        "shapes");
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(entries[0].descriptor, "mb1ic64ih56oc64oh56kh1ph0n\"resnet_50:res2a_branch2a\"");
    EXPECT_EQ(entries[0].location(), "shapes:3");
    EXPECT_EQ(entries[1].descriptor, "mb1ic3ih5oc2kh3");
    EXPECT_EQ(entries[2].descriptor, "mb1ic3ih5oc2kh1");
    EXPECT_EQ(entries[2].line, 5);
}

TEST(Batch, OptionsHoldUntilSetAgainOrReset) {
    const auto entries = parse_batch(
        "--dir=FWD_I --tag=nhwc\n"
        "--alg=MAX\n"
        "ic64ih112oh56kh3sh2\n"
        "--alg=AVG_NP\n"
        "ic2048ih7oh1kh7\n"
        "--reset --allow-enum-tags-only\n"
        "ic8ih4kh2\n",
        "pool");
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(entries[0].options, (Options{{"alg", "MAX"}, {"dir", "FWD_I"}, {"tag", "nhwc"}}));
    EXPECT_EQ(entries[1].options, (Options{{"alg", "AVG_NP"}, {"dir", "FWD_I"}, {"tag", "nhwc"}}));
    EXPECT_EQ(entries[2].options, (Options{{"allow-enum-tags-only", ""}}));
}

TEST(Batch, WhatCannotBeFollowedNamesFileAndLine) {
    try {
        parse_batch("mb1ic3ih5oc2kh3\n--batch=other_file\n", "outer");
        FAIL() << "a nested batch was accepted";
    } catch (const BatchError& e) {
        EXPECT_STREQ(e.what(), "outer:2: nested \"--batch=other_file\" is not supported");
    }
    EXPECT_THROW(parse_batch("--=3\n", "f"), BatchError);
    EXPECT_THROW(read_batch("/nonexistent/convconf/batch"), InputError);
}

TEST(Batch, EmptyTextHasNoEntries) {
    EXPECT_TRUE(parse_batch("", "empty").empty());
    EXPECT_TRUE(parse_batch("# only a comment\n\n", "comment").empty());
}

}  // namespace
}  // namespace convconf
