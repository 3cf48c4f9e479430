/* Entry of the benchmark workload: stack, main, result in EAX, hlt. */
        .section .text.start, "ax"
        .globl  _start
_start:
        mov     $__stack_top, %esp
        call    main
        .globl  __halt
__halt:
        hlt
        .section .note.GNU-stack, "", @progbits
