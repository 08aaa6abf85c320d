# Warning and sanitizer flags live in INTERFACE targets linked PRIVATE by every target
# (cmake_template style); nothing touches the global CMAKE_CXX_FLAGS. -Wnull-dereference is left
# out: with -O2, GCC 12 reports it from inside libstdc++ (istreambuf_iterator) for correct code.
add_library(intelergy_warnings INTERFACE)
target_compile_options(intelergy_warnings INTERFACE
    -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused
    -Woverloaded-virtual -Wpedantic -Wconversion -Wsign-conversion
    -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
    $<$<CXX_COMPILER_ID:GNU>:-Wmisleading-indentation -Wduplicated-cond -Wduplicated-branches -Wlogical-op>
    $<$<BOOL:${INTELERGY_WARNINGS_AS_ERRORS}>:-Werror>)

add_library(intelergy_options INTERFACE)
target_compile_features(intelergy_options INTERFACE cxx_std_20)
if(INTELERGY_SANITIZER)
    string(REPLACE ";" "," _san "${INTELERGY_SANITIZER}")
    target_compile_options(intelergy_options INTERFACE -fsanitize=${_san} -fno-sanitize-recover=all
                           -fno-omit-frame-pointer)
    target_link_options(intelergy_options INTERFACE -fsanitize=${_san})
endif()

# intelergy_add_module(NAME [SOURCES...] [DEPS ...] [PRIVATE_DEPS ...])
function(intelergy_add_module name)
    cmake_parse_arguments(M "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
    add_library(intelergy_${name} STATIC ${M_SOURCES})
    add_library(intelergy::${name} ALIAS intelergy_${name})
    target_include_directories(intelergy_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                               PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
    target_link_libraries(intelergy_${name} PUBLIC ${M_DEPS} PRIVATE ${M_PRIVATE_DEPS}
                          intelergy_warnings intelergy_options)
    set_target_properties(intelergy_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()
