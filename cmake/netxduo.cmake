# NetX Duo port tests: ThreadX's Linux port and NetX Duo (with the RAM
# network driver of its regression tests) built as static libraries for
# the tests only; libsmtpc never contains them.
#
#   THREADX_DIR / NETXDUO_DIR   where their sources are; empty: look in
#                               ../shared/third_party next to the source
#                               directory.  Neither there: nothing is built
#                               and tests/integration/8*_netx*.sh skip.
#
# Built here (into the build directory):
#   netx_scripted     tests/netxduo/netx_scripted.c: scripted servers on a
#                     second NX_IP (short timeouts)
#   netx_relay        tests/netxduo/netx_relay.c: smtpc over NetX Duo to a
#                     real server on host loopback through a relay thread
#   netx_demo_sample  NetX Duo's samples/demo_netxduo_smtp_client.c,
#                     unchanged, with tests/netxduo/sample_harness.c
#   netx_starttls     examples/netxduo/starttls_send.c (+ mbedTLS, when
#                     found) with the same harness
#
# No sanitizers: ThreadX's Linux port runs its threads as pthreads that it
# suspends and resumes with signals, which ASan's and TSan's runtime do
# not expect (false reports, hangs); these targets reset the options that
# SMTPC_SANITIZE added to the directory.

set(THREADX_DIR "" CACHE PATH "ThreadX sources (empty: ../shared/third_party/threadx)")
set(NETXDUO_DIR "" CACHE PATH "NetX Duo sources (empty: ../shared/third_party/netxduo)")

set(_tx_dir "${THREADX_DIR}")
set(_nx_dir "${NETXDUO_DIR}")
get_filename_component(_third_party "${PROJECT_SOURCE_DIR}/../shared/third_party" ABSOLUTE)
if(NOT _tx_dir AND EXISTS "${_third_party}/threadx/common/inc/tx_api.h")
  set(_tx_dir "${_third_party}/threadx")
endif()
if(NOT _nx_dir AND EXISTS "${_third_party}/netxduo/common/inc/nx_api.h")
  set(_nx_dir "${_third_party}/netxduo")
endif()

set(SMTPC_HAVE_NETXDUO OFF)
if(NOT _tx_dir OR NOT EXISTS "${_tx_dir}/ports/linux/gnu/inc/tx_port.h")
  message(STATUS "smtpc: no ThreadX sources (THREADX_DIR): NetX Duo tests not built")
  return()
endif()
if(NOT _nx_dir OR NOT EXISTS "${_nx_dir}/test/regression/test/nx_ram_network_driver_test_1500.c")
  message(STATUS "smtpc: no NetX Duo sources (NETXDUO_DIR): NetX Duo tests not built")
  return()
endif()
set(SMTPC_HAVE_NETXDUO ON)
message(STATUS "smtpc: NetX Duo tests with ThreadX ${_tx_dir} and NetX Duo ${_nx_dir}")

# Third-party code: its own flags, no warnings of ours, no sanitizers.
set(_tp_opts -w)
# Clears what the directory's add_compile_options/add_link_options gave t.
# And -no-pie: on x86-64 ThreadX's Linux port keeps ULONG 32 bits, and
# NetX Duo passes its NX_IP pointer to its thread and timers as a ULONG
# thread/timer input.  In a non-PIE program every static object lies
# below 4 GiB, so that round trip is exact (all NX_IP and thread inputs of
# these tests are static).
macro(smtpc_no_sanitizer t)
  set_property(TARGET ${t} PROPERTY COMPILE_OPTIONS -fno-pie)
  set_property(TARGET ${t} PROPERTY LINK_OPTIONS -no-pie)
endmacro()

file(GLOB _tx_src "${_tx_dir}/common/src/*.c" "${_tx_dir}/ports/linux/gnu/src/*.c")
add_library(smtpc_threadx STATIC EXCLUDE_FROM_ALL ${_tx_src})
smtpc_no_sanitizer(smtpc_threadx)
  set_target_properties(smtpc_threadx PROPERTIES C_STANDARD 99)
target_compile_options(smtpc_threadx PRIVATE ${_tp_opts})
target_compile_definitions(smtpc_threadx PUBLIC _GNU_SOURCE)
target_include_directories(smtpc_threadx PUBLIC
  "${_tx_dir}/common/inc" "${_tx_dir}/ports/linux/gnu/inc")
find_package(Threads REQUIRED)
target_link_libraries(smtpc_threadx PUBLIC Threads::Threads rt)

file(GLOB _nx_src "${_nx_dir}/common/src/*.c")
# The regression tests' RAM driver (below) instead of the simple one.
list(REMOVE_ITEM _nx_src "${_nx_dir}/common/src/nx_ram_network_driver.c")
add_library(smtpc_netxduo STATIC EXCLUDE_FROM_ALL ${_nx_src}
  "${_nx_dir}/test/regression/test/nx_ram_network_driver_test_1500.c")
smtpc_no_sanitizer(smtpc_netxduo)
  set_target_properties(smtpc_netxduo PROPERTIES C_STANDARD 99)
target_compile_options(smtpc_netxduo PRIVATE ${_tp_opts})
target_compile_definitions(smtpc_netxduo PUBLIC
  NX_INCLUDE_USER_DEFINE_FILE)
target_include_directories(smtpc_netxduo PUBLIC
  "${PROJECT_SOURCE_DIR}/tests/netxduo"
  "${_nx_dir}/common/inc" "${_nx_dir}/ports/linux/gnu/inc"
  "${_nx_dir}/test/regression/test")
target_link_libraries(smtpc_netxduo PUBLIC smtpc_threadx)

# smtpc as a NetX Duo application links it: engine, client, compat with
# the NetX system port instead of the POSIX one, the NetX transport, and
# (when found) the mbedTLS backend for the TLS extension.
file(GLOB _smtpc_nx_src
  "${PROJECT_SOURCE_DIR}/src/engine/*.c"
  "${PROJECT_SOURCE_DIR}/src/client/*.c"
  "${PROJECT_SOURCE_DIR}/src/compat/*.c"
  "${PROJECT_SOURCE_DIR}/ports/netxduo/*.c")
list(REMOVE_ITEM _smtpc_nx_src "${PROJECT_SOURCE_DIR}/src/compat/nxd_smtp_port.c")
find_path(_nx_mbedtls_inc mbedtls/ssl.h)
find_library(_nx_mbedtls mbedtls)
find_library(_nx_mbedx509 mbedx509)
find_library(_nx_mbedcrypto mbedcrypto)
set(SMTPC_NETXDUO_TLS OFF)
if(_nx_mbedtls_inc AND _nx_mbedtls AND _nx_mbedx509 AND _nx_mbedcrypto)
  set(SMTPC_NETXDUO_TLS ON)
  list(APPEND _smtpc_nx_src
    "${PROJECT_SOURCE_DIR}/src/transport/tls_mbedtls.c"
    "${PROJECT_SOURCE_DIR}/src/transport/tls_common.c")
endif()
# smtpc_nx_library(NAME DEFINITIONS...): that library, compiled with the
# given NetX/smtpc configuration macros.
function(smtpc_nx_library name)
  add_library(${name} STATIC EXCLUDE_FROM_ALL ${_smtpc_nx_src})
  smtpc_no_sanitizer(${name})
  set_target_properties(${name} PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
  target_compile_options(${name} PRIVATE ${SMTPC_WARNINGS})
  # nx_api.h first, as a NetX application does: the compat header then
  # takes NetX's types and the NetX transport.
  target_compile_options(${name} PRIVATE -include nx_api.h)
  target_compile_definitions(${name} PUBLIC ${ARGN})
  target_include_directories(${name} PUBLIC
    "${PROJECT_SOURCE_DIR}/include" "${PROJECT_SOURCE_DIR}/ports/netxduo"
    PRIVATE "${PROJECT_SOURCE_DIR}/src" "${PROJECT_SOURCE_DIR}/src/compat")
  target_link_libraries(${name} PUBLIC smtpc_netxduo)
  if(SMTPC_NETXDUO_TLS)
    target_compile_definitions(${name} PUBLIC SMTPC_HAVE_MBEDTLS=1)
    target_include_directories(${name} PRIVATE "${_nx_mbedtls_inc}")
    target_link_libraries(${name} PUBLIC ${_nx_mbedtls} ${_nx_mbedx509} ${_nx_mbedcrypto})
  endif()
endfunction()
# The NX_SMTP_CLIENT_* defaults, and short timeouts for the stall tests.
smtpc_nx_library(smtpc_nx)
smtpc_nx_library(smtpc_nx_short SMTPC_TEST_SHORT_TIMEOUTS)

# smtpc_netx_program(NAME LIBRARY SOURCES...): a NetX test program in the build
# directory.
function(smtpc_netx_program name lib)
  add_executable(${name} ${ARGN})
  smtpc_no_sanitizer(${name})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR} C_STANDARD 99)
  target_link_libraries(${name} PRIVATE ${lib})
  target_include_directories(${name} PRIVATE "${PROJECT_SOURCE_DIR}/tests/netxduo")
endfunction()

foreach(t scripted relay)
  set(_lib smtpc_nx)
  if(t STREQUAL "scripted")
    set(_lib smtpc_nx_short)
  endif()
  if(EXISTS "${PROJECT_SOURCE_DIR}/tests/netxduo/netx_${t}.c")
    smtpc_netx_program(netx_${t} ${_lib}
      "${PROJECT_SOURCE_DIR}/tests/netxduo/netx_${t}.c"
      "${PROJECT_SOURCE_DIR}/tests/netxduo/netx_support.c"
      "${PROJECT_SOURCE_DIR}/tests/netxduo/netx_relay_thread.c")
    target_compile_options(netx_${t} PRIVATE ${SMTPC_WARNINGS})
  endif()
endforeach()

# NetX Duo's sample, compiled where it is, unchanged.
set(_sample "${_nx_dir}/samples/demo_netxduo_smtp_client.c")
if(EXISTS "${_sample}" AND EXISTS "${PROJECT_SOURCE_DIR}/tests/netxduo/sample_harness.c")
  # NetX Duo's sample, as NetX Duo ships it: its own warnings are its own.
  smtpc_netx_program(netx_demo_sample smtpc_nx "${_sample}"
    "${PROJECT_SOURCE_DIR}/tests/netxduo/sample_harness.c"
    "${PROJECT_SOURCE_DIR}/tests/netxduo/netx_support.c"
      "${PROJECT_SOURCE_DIR}/tests/netxduo/netx_relay_thread.c")
  # The harness runs the sample's own tx_application_define first
  # (the linker's --wrap), then adds the server side.
  target_link_options(netx_demo_sample PRIVATE -Wl,--wrap=tx_application_define)
endif()
if(EXISTS "${PROJECT_SOURCE_DIR}/examples/netxduo/starttls_send.c")
  smtpc_netx_program(netx_starttls smtpc_nx "${PROJECT_SOURCE_DIR}/examples/netxduo/starttls_send.c"
    "${PROJECT_SOURCE_DIR}/tests/netxduo/sample_harness.c"
    "${PROJECT_SOURCE_DIR}/tests/netxduo/netx_support.c"
      "${PROJECT_SOURCE_DIR}/tests/netxduo/netx_relay_thread.c")
  target_compile_options(netx_starttls PRIVATE ${SMTPC_WARNINGS})
  target_link_options(netx_starttls PRIVATE -Wl,--wrap=tx_application_define)
endif()

add_custom_target(netx ALL DEPENDS smtpc_nx)
foreach(t netx_scripted netx_relay netx_demo_sample netx_starttls)
  if(TARGET ${t})
    add_dependencies(netx ${t})
  endif()
endforeach()
