/* The rank files of the encodings llmhost ships (host/data/tokens), linked into the library so
   that counting needs no file at run time. CMake puts that folder on the assembler's -I path. */
  .section .rodata
  .balign 16
  .global llmhost_rank_file_cl100k_base_begin
  .global llmhost_rank_file_cl100k_base_end
llmhost_rank_file_cl100k_base_begin:
  .incbin "cl100k_base.tiktoken"
llmhost_rank_file_cl100k_base_end:

  .balign 16
  .global llmhost_rank_file_o200k_base_begin
  .global llmhost_rank_file_o200k_base_end
llmhost_rank_file_o200k_base_begin:
  .incbin "o200k_base.tiktoken"
llmhost_rank_file_o200k_base_end:

  .section .note.GNU-stack, "", @progbits
