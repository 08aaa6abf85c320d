# Runs `EXE check-config -c FILE`, prints its output and fails unless it exited non-zero.
execute_process(COMMAND ${EXE} check-config -c ${FILE} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
message("${out}${err}")
if(rc EQUAL 0)
    message(FATAL_ERROR "check-config accepted a bad file")
endif()
