/* cli/commands.h — one entry point per `slm` subcommand, each in cli/cmd_*.c.
 * argv[0] is the first argument after the subcommand name; the return value
 * is the process exit code (DESIGN.md: 0 ok, 1 runtime, 2 usage/input, 3 lock). */
#ifndef SLM_CLI_COMMANDS_H
#define SLM_CLI_COMMANDS_H

#define SLM_COMMANDS(X)                                                                     \
    X(info, "describe a GGUF or HDF5 file")                                                 \
    X(tokenize, "print the token ids of a text")                                            \
    X(eval, "perplexity / loss of a model on a text or dataset; KL to a teacher dump")      \
    X(generate, "sample text from a model (+adapter)")                                      \
    X(tokenizer, "tokenizer train: train a byte-level BPE vocabulary")                      \
    X(data, "data prepare | show: company text -> tokenized HDF5 dataset")                  \
    X(train, "pretrain, full fine-tune or LoRA fine-tune from an INI config")               \
    X(dump_logits, "run a teacher over a dataset and write a top-k logit dump")             \
    X(distill, "train a student on a teacher's logit dump")                                 \
    X(export, "checkpoint -> GGUF (merged) or llama.cpp LoRA adapter")                      \
    X(quantize, "GGUF -> quantized GGUF (Q8_0 ... Q2_K, llama.cpp mixes)")                  \
    X(imatrix, "importance matrix from calibration data")                                   \
    X(report, "regenerate a run directory's report.html")

#define SLM_DECLARE_CMD(name, help) int slm_cmd_##name(int argc, char **argv);
SLM_COMMANDS(SLM_DECLARE_CMD)
#undef SLM_DECLARE_CMD

#endif
