/* Gate-dispatch guest loop for pvops bench.
 *
 * In:  ECX = iterations, EBX = address of a gate (or of a plain `ret` for
 *      the baseline), EDI = page directory (paging is switched on).
 * Per iteration: call *%ebx (the gate returns as if by ret) + dec + jnz.
 */
        .text
        .globl  _start
_start:
        mov     %edi, %cr3
        mov     %cr0, %eax
        or      $0x80000000, %eax
        mov     %eax, %cr0
1:
        call    *%ebx
        dec     %ecx
        jnz     1b
        .globl  __halt
__halt:
        hlt
