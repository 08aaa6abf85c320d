#include "entity.hpp"

#include "intelergy/discovery/ha_keys.hpp"

#include <utility>

namespace intelergy::discovery::detail {

Entity::Entity(std::string object_id, std::string unique_id, std::optional<std::string> name)
    : object_id_(std::move(object_id)), unique_id_(std::move(unique_id)), name_(std::move(name)) {}

void Entity::set_state(std::string topic, std::string value_template) {
    state_topic_ = std::move(topic);
    value_template_ = std::move(value_template);
}

Json Entity::to_json(const EntityContext& context) const {
    Json json = Json::object();
    if (context.with_platform) json[ha::PLATFORM] = platform();
    if (name_) {
        json[ha::NAME] = *name_;
    } else {
        json[ha::NAME] = nullptr;
    }
    json[ha::UNIQUE_ID] = unique_id_;
    if (!state_topic_.empty()) json[ha::STATE_TOPIC] = state_topic_;
    if (!value_template_.empty()) json[ha::VALUE_TEMPLATE] = value_template_;
    add_fields(json);
    if (diagnostic_) json[ha::ENTITY_CATEGORY] = ha::CATEGORY_DIAGNOSTIC;
    if (!enabled_by_default_) json[ha::ENABLED_BY_DEFAULT] = false;
    if (!icon_.empty()) json[ha::ICON] = icon_;
    if (uses_availability_ && context.availability != nullptr) {
        for (const auto& [key, value] : context.availability->items()) json[key] = value;
    }
    if (context.device != nullptr) json[ha::DEVICE] = *context.device;
    if (context.origin != nullptr) json[ha::ORIGIN] = *context.origin;
    return json;
}

SensorEntity::SensorEntity(std::string object_id, std::string unique_id,
                           std::optional<std::string> name, SensorSpec spec)
    : Entity(std::move(object_id), std::move(unique_id), std::move(name)), spec_(std::move(spec)) {}

const char* SensorEntity::platform() const { return ha::SENSOR; }

void SensorEntity::add_fields(Json& json) const {
    if (!spec_.device_class.empty()) json[ha::DEVICE_CLASS] = spec_.device_class;
    if (!spec_.state_class.empty()) json[ha::STATE_CLASS] = spec_.state_class;
    if (!spec_.unit.empty()) json[ha::UNIT_OF_MEASUREMENT] = spec_.unit;
    if (spec_.display_precision) json[ha::SUGGESTED_DISPLAY_PRECISION] = *spec_.display_precision;
    if (spec_.expire_after) json[ha::EXPIRE_AFTER] = spec_.expire_after->count();
}

BinarySensorEntity::BinarySensorEntity(std::string object_id, std::string unique_id,
                                       std::optional<std::string> name, std::string device_class,
                                       std::string payload_on, std::string payload_off)
    : Entity(std::move(object_id), std::move(unique_id), std::move(name)),
      device_class_(std::move(device_class)),
      payload_on_(std::move(payload_on)),
      payload_off_(std::move(payload_off)) {}

const char* BinarySensorEntity::platform() const { return ha::BINARY_SENSOR; }

void BinarySensorEntity::add_fields(Json& json) const {
    json[ha::DEVICE_CLASS] = device_class_;
    json[ha::PAYLOAD_ON] = payload_on_;
    json[ha::PAYLOAD_OFF] = payload_off_;
}

SwitchEntity::SwitchEntity(std::string object_id, std::string unique_id,
                           std::optional<std::string> name, std::string command_topic)
    : Entity(std::move(object_id), std::move(unique_id), std::move(name)),
      command_topic_(std::move(command_topic)) {}

const char* SwitchEntity::platform() const { return ha::SWITCH; }

void SwitchEntity::add_fields(Json& json) const {
    json[ha::DEVICE_CLASS] = "outlet";
    json[ha::COMMAND_TOPIC] = command_topic_;
    json[ha::PAYLOAD_ON] = "ON";
    json[ha::PAYLOAD_OFF] = "OFF";
}

}  // namespace intelergy::discovery::detail
