#pragma once

// Home Assistant MQTT discovery key names, in one place (STYLE §13). Intelergy always sends the
// full key names (never the abbreviations) so payloads read like the HA documentation.
namespace intelergy::discovery::ha {

// Device-based discovery (one payload per device).
inline constexpr const char* COMPONENTS = "components";
inline constexpr const char* PLATFORM = "platform";
inline constexpr const char* DEVICE = "device";
inline constexpr const char* ORIGIN = "origin";

// Common entity keys.
inline constexpr const char* NAME = "name";
inline constexpr const char* UNIQUE_ID = "unique_id";
inline constexpr const char* STATE_TOPIC = "state_topic";
inline constexpr const char* COMMAND_TOPIC = "command_topic";
inline constexpr const char* VALUE_TEMPLATE = "value_template";
inline constexpr const char* ENTITY_CATEGORY = "entity_category";
inline constexpr const char* ENABLED_BY_DEFAULT = "enabled_by_default";
inline constexpr const char* ICON = "icon";
inline constexpr const char* AVAILABILITY = "availability";
inline constexpr const char* AVAILABILITY_MODE = "availability_mode";
inline constexpr const char* TOPIC = "topic";

// Sensor / binary_sensor / switch.
inline constexpr const char* DEVICE_CLASS = "device_class";
inline constexpr const char* STATE_CLASS = "state_class";
inline constexpr const char* UNIT_OF_MEASUREMENT = "unit_of_measurement";
inline constexpr const char* SUGGESTED_DISPLAY_PRECISION = "suggested_display_precision";
inline constexpr const char* EXPIRE_AFTER = "expire_after";
inline constexpr const char* PAYLOAD_ON = "payload_on";
inline constexpr const char* PAYLOAD_OFF = "payload_off";

// Device block.
inline constexpr const char* IDENTIFIERS = "identifiers";
inline constexpr const char* CONNECTIONS = "connections";
inline constexpr const char* MANUFACTURER = "manufacturer";
inline constexpr const char* MODEL = "model";
inline constexpr const char* HW_VERSION = "hw_version";
inline constexpr const char* SW_VERSION = "sw_version";
inline constexpr const char* CONFIGURATION_URL = "configuration_url";
inline constexpr const char* SUGGESTED_AREA = "suggested_area";
inline constexpr const char* VIA_DEVICE = "via_device";

// Origin block.
inline constexpr const char* SUPPORT_URL = "support_url";

// Values.
inline constexpr const char* CONNECTION_MAC = "mac";
inline constexpr const char* CATEGORY_DIAGNOSTIC = "diagnostic";
inline constexpr const char* MODE_ALL = "all";
inline constexpr const char* STATE_CLASS_MEASUREMENT = "measurement";
inline constexpr const char* STATE_CLASS_TOTAL_INCREASING = "total_increasing";

// Platforms (components) used by Intelergy.
inline constexpr const char* SENSOR = "sensor";
inline constexpr const char* BINARY_SENSOR = "binary_sensor";
inline constexpr const char* SWITCH = "switch";
inline constexpr const char* DEVICE_COMPONENT = "device";  // <prefix>/device/<id>/config

}  // namespace intelergy::discovery::ha
