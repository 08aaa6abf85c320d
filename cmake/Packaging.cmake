# Debian packages through CPack (`./scripts/package` builds and checks them). Two components,
# one package each:
#   bridge -> intelergy      /usr/bin/intelergy, /etc/intelergy/intelergy.toml (conffile),
#                            /lib/systemd/system/intelergy.service, /usr/share/doc/intelergy/
#   sim    -> intelergy-sim  /usr/bin/intelergy-sim (simulated Shelly plugs, for tests and demos)
# Included last from the top-level CMakeLists.txt, so every target exists here.

# The modules' own install() rules carry no component; these give each file its package. CPack
# installs only the components listed in CPACK_COMPONENTS_ALL, so nothing lands twice.
install(TARGETS intelergy RUNTIME DESTINATION bin COMPONENT bridge)
set(_components bridge)
if(TARGET intelergy-sim)  # INTELERGY_BUILD_TOOLS=OFF builds no simulator, so no intelergy-sim
    install(TARGETS intelergy-sim RUNTIME DESTINATION bin COMPONENT sim)
    list(APPEND _components sim)
endif()

set(_pkg ${CMAKE_CURRENT_LIST_DIR}/../packaging)
cmake_path(NORMAL_PATH _pkg)

# Absolute destinations: these paths are fixed by Debian policy, not by the install prefix.
install(FILES ${_pkg}/intelergy.toml DESTINATION /etc/intelergy
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ COMPONENT bridge)
install(FILES ${_pkg}/intelergy.service DESTINATION /lib/systemd/system
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ COMPONENT bridge)

set(_doc share/doc/intelergy)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${_doc} COMPONENT bridge OPTIONAL)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION ${_doc} COMPONENT bridge
        FILES_MATCHING PATTERN "*.md")
install(FILES ${_pkg}/intelergy.toml ${_pkg}/mosquitto-acl.example
        DESTINATION ${_doc}/examples COMPONENT bridge)
install(FILES ${CMAKE_SOURCE_DIR}/docs/simulator.md DESTINATION share/doc/intelergy-sim
        COMPONENT sim OPTIONAL)
# Machine-readable copyright (MIT, plus the header-only libraries compiled in), one per package.
install(FILES ${_pkg}/debian/copyright DESTINATION ${_doc} COMPONENT bridge)
install(FILES ${_pkg}/debian/copyright DESTINATION share/doc/intelergy-sim COMPONENT sim)

# Debian revision: 1+<distro>.git<commits>.<sha>, e.g. 0.1.0-1+deb12.git57.f3bf352a1b. The commit
# count keeps later builds of one project version ordered for dpkg, so installing a newer build
# is an upgrade; the SHA says which tree it came from.
execute_process(COMMAND git rev-list --count HEAD WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                OUTPUT_VARIABLE _commits OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT _commits)
    set(_commits 0)
endif()
set(_distro "")
if(EXISTS /etc/os-release)
    file(STRINGS /etc/os-release _os_id REGEX "^ID=")
    file(STRINGS /etc/os-release _os_ver REGEX "^VERSION_ID=")
    string(REGEX REPLACE "^ID=\"?([a-z0-9]+)\"?$" "\\1" _os_id "${_os_id}")
    string(REGEX REPLACE "^VERSION_ID=\"?([0-9]+).*$" "\\1" _os_ver "${_os_ver}")
    if(_os_id STREQUAL "debian")
        set(_distro "deb${_os_ver}.")
    elseif(_os_id MATCHES "^[a-z0-9]+$" AND _os_ver MATCHES "^[0-9]+$")
        set(_distro "${_os_id}${_os_ver}.")
    endif()
endif()
string(REGEX REPLACE "[^0-9a-z]" "" _sha "${INTELERGY_GIT_SHA}")
if(NOT _sha OR _sha STREQUAL "unknown")
    set(_sha "nogit")
endif()
set(INTELERGY_DEB_RELEASE "1+${_distro}git${_commits}.${_sha}" CACHE INTERNAL "")

# Maintainer scripts get @DEB_VERSION@ etc.; Debian requires them 0755.
set(_ctl ${CMAKE_BINARY_DIR}/packaging/debian)
foreach(f postinst prerm postrm)
    configure_file(${_pkg}/debian/${f}.in ${_ctl}/${f} @ONLY
                   FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                                    WORLD_READ WORLD_EXECUTE)
endforeach()
file(WRITE ${_ctl}/conffiles "/etc/intelergy/intelergy.toml\n")

# Debian changelog for /usr/share/doc/intelergy (lintian expects one).
string(TIMESTAMP _now "%a, %d %b %Y %H:%M:%S +0000" UTC)
# No public mailing address exists yet: .invalid (RFC 2606) says so instead of pretending.
set(INTELERGY_DEB_MAINTAINER "Intelergy maintainers <maintainers@intelergy.invalid>" CACHE
    STRING "Maintainer field of the Debian packages")
foreach(p intelergy intelergy-sim)
    file(WRITE ${_ctl}/${p}/changelog.Debian
         "${p} (${PROJECT_VERSION}-${INTELERGY_DEB_RELEASE}) unstable; urgency=medium\n\n"
         "  * Built from git ${INTELERGY_GIT_SHA}.\n\n"
         " -- ${INTELERGY_DEB_MAINTAINER}  ${_now}\n")
    execute_process(COMMAND gzip -9nf ${_ctl}/${p}/changelog.Debian)
endforeach()
install(FILES ${_ctl}/intelergy/changelog.Debian.gz DESTINATION ${_doc} COMPONENT bridge)
# Manual pages, compressed as Debian policy wants them.
foreach(p intelergy intelergy-sim)
    configure_file(${_pkg}/man/${p}.1 ${_ctl}/man/${p}.1 COPYONLY)
    execute_process(COMMAND gzip -9nf ${_ctl}/man/${p}.1)
endforeach()
install(FILES ${_ctl}/man/intelergy.1.gz DESTINATION share/man/man1 COMPONENT bridge)
install(FILES ${_ctl}/man/intelergy-sim.1.gz DESTINATION share/man/man1 COMPONENT sim)
install(FILES ${_ctl}/intelergy-sim/changelog.Debian.gz DESTINATION share/doc/intelergy-sim
        COMPONENT sim)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME intelergy)
set(CPACK_PACKAGE_VENDOR "Intelergy")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${INTELERGY_DEB_MAINTAINER}")
# CPackDeb prepends a non-default summary to every component's description; with CPack's own
# default value it does not, so each CPACK_DEBIAN_<COMP>_DESCRIPTION below starts with its own
# summary line.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CPACK_PACKAGE_NAME} built using CMake")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL ${_components})
set(CPACK_DEB_COMPONENT_INSTALL ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # <name>_<version>-<release>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE ${INTELERGY_DEB_RELEASE})
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)   # Depends: computed by dpkg-shlibdeps
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_BRIDGE_PACKAGE_NAME intelergy)
# adduser: postinst creates the system user. deb-systemd-helper/-invoke come from
# init-system-helpers, which is Essential in Debian 12 (lintian forbids an unversioned Depends).
set(CPACK_DEBIAN_BRIDGE_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_BRIDGE_PACKAGE_RECOMMENDS "mosquitto, postgresql")
set(CPACK_DEBIAN_BRIDGE_PACKAGE_SUGGESTS "mosquitto-clients, intelergy-sim")
string(CONCAT CPACK_DEBIAN_BRIDGE_DESCRIPTION
    "${PROJECT_DESCRIPTION}\n"
    "Intelergy polls Shelly Gen1-Gen4 smart plugs over HTTP and consumes their\n"
    "MQTT status, republishes them on normalised MQTT topics, announces them to\n"
    "Home Assistant through MQTT discovery and keeps a per-plug energy history\n"
    "with rollups in PostgreSQL. Runs as the systemd service intelergy.service\n"
    "(not started until configured).")
set(CPACK_DEBIAN_BRIDGE_PACKAGE_CONTROL_EXTRA
    "${_ctl}/conffiles;${_ctl}/postinst;${_ctl}/prerm;${_ctl}/postrm")

set(CPACK_DEBIAN_SIM_PACKAGE_NAME intelergy-sim)
set(CPACK_DEBIAN_SIM_PACKAGE_SECTION devel)
string(CONCAT CPACK_DEBIAN_SIM_DESCRIPTION
    "Simulated Shelly smart plugs for Intelergy\n"
    "intelergy-sim serves Shelly Gen1-Gen4 plugs over HTTP and MQTT with synthetic\n"
    "power profiles, for tests and demos of Intelergy without real hardware.")

include(CPack)
cpack_add_component(bridge DISPLAY_NAME "Intelergy bridge" REQUIRED)
cpack_add_component(sim DISPLAY_NAME "Shelly plug simulator")
