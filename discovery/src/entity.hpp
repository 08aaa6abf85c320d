#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace intelergy::discovery::detail {

// Insertion-ordered so payloads read in a fixed, human order (and golden files stay stable).
using Json = nlohmann::ordered_json;

// What surrounds an entity config: in Device mode it is one component of the device payload
// (platform inside, device/origin at the root), in Entity mode a standalone payload.
struct EntityContext {
    bool with_platform{false};
    const Json* availability{nullptr};  // embedded as-is when set and the entity uses it
    const Json* device{nullptr};        // embedded when set (Entity mode)
    const Json* origin{nullptr};
};

// Template-method base (STYLE §13): to_json() builds the block every HA entity shares
// (platform, name, unique_id, state topic/template, category, enablement, icon, availability,
// device, origin); subclasses add only their platform's own fields in add_fields().
class Entity {
public:
    // name: nullopt -> JSON null, i.e. the entity is the device's main feature.
    Entity(std::string object_id, std::string unique_id, std::optional<std::string> name);
    virtual ~Entity() = default;
    Entity(const Entity&) = default;
    Entity& operator=(const Entity&) = default;
    Entity(Entity&&) = default;
    Entity& operator=(Entity&&) = default;

    [[nodiscard]] virtual const char* platform() const = 0;
    [[nodiscard]] const std::string& object_id() const { return object_id_; }
    [[nodiscard]] const std::string& unique_id() const { return unique_id_; }
    [[nodiscard]] bool uses_availability() const { return uses_availability_; }

    [[nodiscard]] Json to_json(const EntityContext& context) const;

    void set_state(std::string topic, std::string value_template);
    void set_diagnostic() { diagnostic_ = true; }
    void set_disabled_by_default() { enabled_by_default_ = false; }
    void set_icon(std::string icon) { icon_ = std::move(icon); }
    // The entity must stay available when the bridge is offline (the connectivity sensor).
    void set_without_availability() { uses_availability_ = false; }

protected:
    virtual void add_fields(Json& json) const = 0;

private:
    std::string object_id_;
    std::string unique_id_;
    std::optional<std::string> name_;
    std::string state_topic_;
    std::string value_template_;
    std::string icon_;
    bool diagnostic_{false};
    bool enabled_by_default_{true};
    bool uses_availability_{true};
};

struct SensorSpec {
    std::string device_class;  // empty: none
    std::string state_class;   // empty: none
    std::string unit;          // empty: none
    std::optional<int> display_precision;
    std::optional<std::chrono::seconds> expire_after;
};

class SensorEntity final : public Entity {
public:
    SensorEntity(std::string object_id, std::string unique_id, std::optional<std::string> name,
                 SensorSpec spec);
    [[nodiscard]] const char* platform() const override;

protected:
    void add_fields(Json& json) const override;

private:
    SensorSpec spec_;
};

class BinarySensorEntity final : public Entity {
public:
    BinarySensorEntity(std::string object_id, std::string unique_id,
                       std::optional<std::string> name, std::string device_class,
                       std::string payload_on, std::string payload_off);
    [[nodiscard]] const char* platform() const override;

protected:
    void add_fields(Json& json) const override;

private:
    std::string device_class_;
    std::string payload_on_;
    std::string payload_off_;
};

// A relay. State comes from the JSON state topic (value_template yields "ON"/"OFF"); commands
// are plain ON/OFF on command_topic, never retained.
class SwitchEntity final : public Entity {
public:
    SwitchEntity(std::string object_id, std::string unique_id, std::optional<std::string> name,
                 std::string command_topic);
    [[nodiscard]] const char* platform() const override;

protected:
    void add_fields(Json& json) const override;

private:
    std::string command_topic_;
};

}  // namespace intelergy::discovery::detail
