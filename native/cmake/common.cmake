# The C settings of the library, its tests and the samples, and the
# sanitizers (VSK_SANITIZE): included by native/CMakeLists.txt and by the
# top-level CMakeLists.txt (before native/, so the samples get them too).
include_guard(GLOBAL)

set(CMAKE_C_STANDARD 11)
set(CMAKE_C_STANDARD_REQUIRED ON)
set(CMAKE_C_VISIBILITY_PRESET hidden)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE Release)
endif()

set(VSK_SANITIZE "" CACHE STRING
  "Sanitizers for the library, tests and samples: e.g. address,undefined or thread")

# Sanitizers apply to everything built in the including directory and below
# (library, C tests; from the top-level project also the samples), so a
# report points into the library. UBSan is made fatal (no recovery) so a
# finding fails the test instead of printing and carrying on.
if(VSK_SANITIZE)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
    message(FATAL_ERROR "VSK_SANITIZE needs GCC or Clang")
  endif()
  set(VSK_SANITIZE_FLAGS -fsanitize=${VSK_SANITIZE} -fno-omit-frame-pointer -g)
  if(VSK_SANITIZE MATCHES "undefined")
    list(APPEND VSK_SANITIZE_FLAGS -fno-sanitize-recover=all)
  endif()
  add_compile_options(${VSK_SANITIZE_FLAGS})
  add_link_options(${VSK_SANITIZE_FLAGS})
  message(STATUS "voiceskin: sanitizers ${VSK_SANITIZE}")
endif()
