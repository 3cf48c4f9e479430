/* Entry of the test programs: set a stack, call main, store its result,
   define every arithmetic flag (cmp), halt. */
        .section .text.start, "ax"
        .globl  _start
_start:
        mov     $__stack_top, %esp
        xor     %ebp, %ebp
        call    main
        mov     %eax, result
        cmp     $0, %eax
        .globl  __halt
__halt:
        hlt

        .bss
        .globl  result
        .align  4
result: .long   0
        .section .note.GNU-stack, "", @progbits
