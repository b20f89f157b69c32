#include "textflag.h"

// func classifySSE2(b []byte, nl, colon []uint64)
//
// For each 64-byte block k of b (len(b) is a multiple of 64; nl and colon
// have a word for each block), bit j of nl[k] is set when b[64k+j] is
// '\n', and of colon[k] when it is ':'.
TEXT ·classifySSE2(SB), NOSPLIT, $0-72
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	MOVQ nl_base+24(FP), DI
	MOVQ colon_base+48(FP), R8
	SHRQ $6, CX
	JZ   done
	MOVQ $0x0a0a0a0a0a0a0a0a, AX
	MOVQ AX, X0
	PUNPCKLQDQ X0, X0
	MOVQ $0x3a3a3a3a3a3a3a3a, AX
	MOVQ AX, X1
	PUNPCKLQDQ X1, X1

loop:
	MOVOU 0(SI), X2
	MOVOU 16(SI), X3
	MOVOU 32(SI), X4
	MOVOU 48(SI), X5

	MOVO X2, X6
	PCMPEQB X0, X6
	PMOVMSKB X6, AX
	MOVO X3, X6
	PCMPEQB X0, X6
	PMOVMSKB X6, BX
	SHLQ $16, BX
	ORQ BX, AX
	MOVO X4, X6
	PCMPEQB X0, X6
	PMOVMSKB X6, BX
	SHLQ $32, BX
	ORQ BX, AX
	MOVO X5, X6
	PCMPEQB X0, X6
	PMOVMSKB X6, BX
	SHLQ $48, BX
	ORQ BX, AX
	MOVQ AX, 0(DI)

	PCMPEQB X1, X2
	PMOVMSKB X2, AX
	PCMPEQB X1, X3
	PMOVMSKB X3, BX
	SHLQ $16, BX
	ORQ BX, AX
	PCMPEQB X1, X4
	PMOVMSKB X4, BX
	SHLQ $32, BX
	ORQ BX, AX
	PCMPEQB X1, X5
	PMOVMSKB X5, BX
	SHLQ $48, BX
	ORQ BX, AX
	MOVQ AX, 0(R8)

	ADDQ $64, SI
	ADDQ $8, DI
	ADDQ $8, R8
	DECQ CX
	JNZ  loop

done:
	RET
