/* cli/info.h — `slm info` for HDF5 files (datasets, dumps, checkpoints),
 * provided by the data/train side.  cli/cmd_info.c detects the HDF5
 * signature and calls this with the command's full argv (the file is one of
 * its arguments), so the HDF5 side parses its own options.  cmd_info.c holds
 * a weak fallback that says HDF5 support is not built.  Returns the exit code.
 *
 * Define the strong version in a file under cli/ (linked as an object): a linker
 * does not pull a member out of libslm.a to replace a weak definition it
 * already has, so a definition inside the library would be ignored. */
#ifndef SLM_CLI_INFO_H
#define SLM_CLI_INFO_H

int slm_cmd_info_h5(const char *path, int argc, char **argv);

#endif
