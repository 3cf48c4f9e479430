/* Memory-bound guest loop for pvops bench.
 *
 * In:  ECX = iterations, EDI = page directory (paging is switched on),
 *      ESI = base of the working set, EBP = working-set size - 1 (a power
 *      of two, several pages).
 * Out: EAX = checksum; halts.
 * Per iteration: 4 loads, 2 stores and 6 other instructions + dec + jnz,
 * striding 4 KiB + 68 bytes so consecutive accesses land on different pages.
 */
        .text
        .globl  _start
_start:
        mov     %edi, %cr3
        mov     %cr0, %eax
        or      $0x80000000, %eax
        mov     %eax, %cr0
        xor     %eax, %eax
        xor     %edx, %edx
1:
        mov     (%esi,%edx), %ebx
        add     %ebx, %eax
        mov     %eax, (%esi,%edx)
        add     $0x1044, %edx
        and     %ebp, %edx
        mov     (%esi,%edx), %ebx
        xor     %ebx, %eax
        mov     4(%esi,%edx), %ebx
        sub     %ebx, %eax
        mov     %eax, 8(%esi,%edx)
        add     $0x2088, %edx
        and     %ebp, %edx
        dec     %ecx
        jnz     1b
        .globl  __halt
__halt:
        hlt
