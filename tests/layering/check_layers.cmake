# check_layers.cmake — proves that the build enforces the layer order (docs/architecture.md):
# for every layer, including a header of any higher layer against that layer's include root
# must fail to compile, while its own headers compile. The client layer (our REST API's client)
# sits beside the server layers: it sees only core and base, and no server layer sees it. The
# CLI and the Terraform provider may see only client, core and base. The order below restates the rule on purpose, independently of the
# AGYN_USES_* table in CMakeLists.txt, so widening a layer's include root upward fails here.
# Run by CTest: cmake -DCC=<compiler> -DSRC=<source dir>/src -DBUILD=<build dir> -P this file.
set(order core base crypto store net providers registry credentials runner api)
set(server_only crypto store net providers registry credentials runner api)

set(work ${BUILD}/layering-probes)
file(REMOVE_RECURSE ${work})
file(MAKE_DIRECTORY ${work})
set(failures "")
set(probes 0)

# A probe: target's include root, the included header, whether it must compile.
function(probe target layer must_compile)
  file(GLOB headers RELATIVE ${SRC}/${layer} ${SRC}/${layer}/*.h)
  list(SORT headers)
  list(GET headers 0 header)
  set(file ${work}/${target}__${layer}.c)
  file(WRITE ${file} "#include \"${layer}/${header}\"\n")
  execute_process(COMMAND ${CC} -std=c17 -D_GNU_SOURCE -fsyntax-only -I${BUILD}/layers/${target}
                          ${file}
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE stderr)
  math(EXPR n "${probes} + 1")
  set(probes ${n} PARENT_SCOPE)
  if(must_compile AND NOT rc EQUAL 0)
    set(failures "${failures}\n  ${target}: ${layer}/${header} should compile but did not:\n${stderr}"
        PARENT_SCOPE)
  elseif(NOT must_compile AND rc EQUAL 0)
    set(failures "${failures}\n  ${target}: upward include ${layer}/${header} compiled" PARENT_SCOPE)
  elseif(NOT must_compile AND NOT stderr MATCHES "${layer}/${header}.*(No such file|not found)")
    set(failures "${failures}\n  ${target}: ${layer}/${header} failed for another reason:\n${stderr}"
        PARENT_SCOPE)
  endif()
endfunction()

list(LENGTH order count)
math(EXPR last "${count} - 1")
foreach(i RANGE ${last})
  list(GET order ${i} layer)
  probe(agyn_${layer} ${layer} TRUE)
  if(i LESS last)
    math(EXPR first_higher "${i} + 1")
    foreach(j RANGE ${first_higher} ${last})
      list(GET order ${j} higher)
      probe(agyn_${layer} ${higher} FALSE)
    endforeach()
  endif()
endforeach()

# client: beside the server layers, above core and base only.
probe(agyn_client client TRUE)
probe(agyn_client core TRUE)
probe(agyn_client base TRUE)
foreach(layer ${server_only})
  probe(agyn_client ${layer} FALSE)
endforeach()
foreach(layer ${order})
  probe(agyn_${layer} client FALSE)
endforeach()

set(clients agyn-cli)
if(EXISTS ${BUILD}/layers/terraform-provider-agyn)
  list(APPEND clients terraform-provider-agyn)
endif()
foreach(client ${clients})
  probe(${client} core TRUE)
  probe(${client} base TRUE)
  probe(${client} client TRUE)
  foreach(layer ${server_only})
    probe(${client} ${layer} FALSE)
  endforeach()
endforeach()

# A relative include ("../store/store.h") would step around the include roots.
file(GLOB_RECURSE sources ${SRC}/*.c ${SRC}/*.h)
foreach(source ${sources})
  file(STRINGS ${source} relative REGEX "^[ \t]*#[ \t]*include[ \t]*\"\\.\\./")
  if(relative)
    set(failures "${failures}\n  ${source}: relative include ${relative}")
  endif()
endforeach()

if(failures)
  message(FATAL_ERROR "layering violated (${probes} probes):${failures}")
endif()
message(STATUS "layering holds: ${probes} probes, no relative includes")
