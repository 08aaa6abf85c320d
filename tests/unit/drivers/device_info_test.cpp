#include "fixtures.hpp"
#include "intelergy/drivers/shelly_device.hpp"

#include <gtest/gtest.h>

namespace intelergy::drivers {
namespace {

using test::fixture;

TEST(DeviceInfo, Gen1PlugSFromShellyEndpoint) {
    auto info = parse_device_info(fixture("gen1_shelly.json"));
    ASSERT_TRUE(info) << info.error().describe();
    EXPECT_EQ(info->gen, Generation::Gen1);
    EXPECT_EQ(info->model, "SHPLG-S");
    EXPECT_EQ(info->mac, "A1B2C3D4E5F6");
    EXPECT_EQ(info->shelly_id, "shellyplug-s-D4E5F6");
    EXPECT_EQ(info->firmware, "20230913-113421/v1.14.0-gcb84623");
    EXPECT_EQ(info->app, "");
    EXPECT_EQ(info->name, "desk-plug");
    EXPECT_TRUE(info->auth_required);
}

TEST(DeviceInfo, Gen1PlugVariantsMapToShellyplugAndMacIsNormalised) {
    auto info = parse_device_info(fixture("gen1_plug_shelly.json"));
    ASSERT_TRUE(info) << info.error().describe();
    EXPECT_EQ(info->gen, Generation::Gen1);
    EXPECT_EQ(info->model, "SHPLG2-1");
    EXPECT_EQ(info->mac, "C45BBE0A1B2C");
    EXPECT_EQ(info->shelly_id, "shellyplug-0A1B2C");
    EXPECT_EQ(info->name, "");
    EXPECT_FALSE(info->auth_required);

    for (const char* type : {"SHPLG-1", "SHPLG-U1"}) {
        auto v =
            parse_device_info(std::string{R"({"type":")"} + type + R"(","mac":"AABBCCDDEEFF"})");
        ASSERT_TRUE(v) << type;
        EXPECT_EQ(v->shelly_id, "shellyplug-DDEEFF") << type;
    }
    auto other = parse_device_info(R"({"type":"SHSW-PM","mac":"AABBCCDDEEFF"})");
    ASSERT_TRUE(other);
    EXPECT_EQ(other->shelly_id, "shsw-pm-DDEEFF");
}

TEST(DeviceInfo, Gen2PlusPlugS) {
    auto info = parse_device_info(fixture("gen2_shelly.json"));
    ASSERT_TRUE(info) << info.error().describe();
    EXPECT_EQ(info->gen, Generation::Gen2);
    EXPECT_EQ(info->model, "SNPL-00112EU");
    EXPECT_EQ(info->mac, "A1B2C3D4E5F6");
    EXPECT_EQ(info->shelly_id, "shellyplusplugs-a1b2c3d4e5f6");
    EXPECT_EQ(info->firmware, "20240819-074343/1.4.2-gc2639da");
    EXPECT_EQ(info->app, "PlusPlugS");
    EXPECT_EQ(info->name, "desk-plug");
    EXPECT_TRUE(info->auth_required);
}

TEST(DeviceInfo, Gen3NullNameAndGen3PlugPm) {
    auto g3 = parse_device_info(fixture("gen3_shelly.json"));
    ASSERT_TRUE(g3) << g3.error().describe();
    EXPECT_EQ(g3->gen, Generation::Gen3);
    EXPECT_EQ(g3->name, "");
    EXPECT_FALSE(g3->auth_required);
    EXPECT_EQ(g3->app, "PlugSG3");

    auto pm = parse_device_info(fixture("gen3_plugpm_shelly.json"));
    ASSERT_TRUE(pm) << pm.error().describe();
    EXPECT_EQ(pm->gen, Generation::Gen3);
    EXPECT_EQ(pm->mac, "A1B2C3D4E5F8");  // "a1:b2:..." normalised
    EXPECT_EQ(pm->model, "S3PL-30116EU");
}

TEST(DeviceInfo, Gen4PowerStrip) {
    auto info = parse_device_info(fixture("gen4_powerstrip_shelly.json"));
    ASSERT_TRUE(info) << info.error().describe();
    EXPECT_EQ(info->gen, Generation::Gen4);
    EXPECT_EQ(info->shelly_id, "shellypstripg4-a1b2c3d4e600");
    EXPECT_EQ(info->app, "PowerStrip");
}

TEST(DeviceInfo, GenerationComesOnlyFromGenKey) {
    // A Gen2 model string without `gen` is still Gen1 by the rule (and then needs `type`).
    auto no_gen = parse_device_info(R"({"model":"SNPL-00112EU","mac":"AABBCCDDEEFF",
                                        "type":"SHPLG-S"})");
    ASSERT_TRUE(no_gen);
    EXPECT_EQ(no_gen->gen, Generation::Gen1);
    // A Gen1-looking type with gen:3 is Gen3.
    auto g3 = parse_device_info(R"({"gen":3,"model":"SHPLG-S","id":"x","mac":"AABBCCDDEEFF"})");
    ASSERT_TRUE(g3);
    EXPECT_EQ(g3->gen, Generation::Gen3);
}

TEST(DeviceInfo, BadGenValuesAreProtocolErrors) {
    for (const char* gen : {"1", "5", "0", "-2", "2.5", "\"2\"", "true", "null", "{}", "[2]"}) {
        auto r = parse_device_info(std::string{R"({"gen":)"} + gen +
                                   R"(,"model":"X","id":"x","mac":"AABBCCDDEEFF"})");
        ASSERT_FALSE(r) << gen;
        EXPECT_EQ(r.error().code, ErrorCode::Protocol) << gen;
    }
}

TEST(DeviceInfo, NotAShelly) {
    auto r = parse_device_info(R"({"hello":"world"})");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::Protocol);
    EXPECT_NE(r.error().message.find("not a Shelly"), std::string::npos) << r.error().message;

    auto arr = parse_device_info("[1,2]");
    ASSERT_FALSE(arr);
    EXPECT_EQ(arr.error().code, ErrorCode::Protocol);

    auto html = parse_device_info("<html>404</html>");
    ASSERT_FALSE(html);
    EXPECT_EQ(html.error().code, ErrorCode::Parse);
}

TEST(DeviceInfo, MacValidation) {
    for (const char* mac :
         {"", "AABBCCDDEE", "AABBCCDDEEFF00", "GGBBCCDDEEFF", "AA BB CC DD EE FF"}) {
        auto r = parse_device_info(std::string{R"({"type":"SHPLG-S","mac":")"} + mac + "\"}");
        ASSERT_FALSE(r) << mac;
        EXPECT_EQ(r.error().code, ErrorCode::Protocol) << mac;
    }
    auto numeric = parse_device_info(R"({"type":"SHPLG-S","mac":123456789012})");
    EXPECT_FALSE(numeric);
    auto missing = parse_device_info(R"({"type":"SHPLG-S"})");
    EXPECT_FALSE(missing);
    auto gen2_no_id = parse_device_info(R"({"gen":2,"model":"SNPL","mac":"AABBCCDDEEFF"})");
    EXPECT_FALSE(gen2_no_id);
}

TEST(DeviceInfo, DeviceIdFromMac) {
    EXPECT_EQ(device_id_from_mac("AABBCCDDEEFF"), "shelly-aabbccddeeff");
    EXPECT_EQ(device_id_from_mac("a1:B2:c3:D4:e5:F6"), "shelly-a1b2c3d4e5f6");
    EXPECT_EQ(device_id_from_mac("nonsense"), "");
    auto n = normalize_mac("a1-b2-c3-d4-e5-f6");
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, "A1B2C3D4E5F6");
}

TEST(Announce, Gen1AnnounceFromFixture) {
    auto r = parse_gen1_announce(
        R"({"id":"shellyplug-s-D4E5F6","model":"SHPLG-S","mac":"A1B2C3D4E5F6",
            "ip":"192.168.10.41","new_fw":false,"fw_ver":"20230913-113421/v1.14.0-gcb84623"})");
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->id, "shellyplug-s-D4E5F6");
    EXPECT_EQ(r->model, "SHPLG-S");
    EXPECT_EQ(r->mac, "A1B2C3D4E5F6");
    EXPECT_EQ(r->ip, "192.168.10.41");
    EXPECT_EQ(r->fw_ver, "20230913-113421/v1.14.0-gcb84623");
    EXPECT_FALSE(r->new_fw);
}

TEST(Announce, RejectsUnusableIdsAndMacs) {
    EXPECT_FALSE(parse_gen1_announce(R"({"id":"a/b","mac":"A1B2C3D4E5F6"})"));
    EXPECT_FALSE(parse_gen1_announce(R"({"id":"","mac":"A1B2C3D4E5F6"})"));
    EXPECT_FALSE(parse_gen1_announce(R"({"id":"x#","mac":"A1B2C3D4E5F6"})"));
    EXPECT_FALSE(parse_gen1_announce(R"({"id":"x","mac":"nope"})"));
    EXPECT_FALSE(parse_gen1_announce(R"({"id":"x"})"));
    EXPECT_FALSE(parse_gen1_announce("announce"));
}

}  // namespace
}  // namespace intelergy::drivers
