// SPDX-License-Identifier: AGPL-3.0-or-later
// Replays a fuzz corpus through one fuzz entry point, without libFuzzer.
//
// Built for every compiler as `fuzz_corpus_replay_<target>` and run by ctest, so the ordinary test
// run (gcc, and the ASan/UBSan build) feeds every seed and every saved crash reproducer through
// the same code the fuzzers exercise. Arguments are directories (every regular file in them,
// recursively, in name order) or single files. Exits non-zero if nothing ran, so a missing or
// misspelt corpus directory fails the test instead of passing vacuously.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

bool readFile(const std::filesystem::path& path, std::vector<uint8_t>* out)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return false;
    }
    out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return !in.bad();
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    namespace fs = std::filesystem;
    std::vector<fs::path> files;
    for (int i = 1; i < argc; ++i) {
        const fs::path arg(argv[i]);
        std::error_code ec;
        if (fs::is_directory(arg, ec)) {
            for (const auto& entry : fs::recursive_directory_iterator(arg)) {
                if (entry.is_regular_file()) {
                    files.push_back(entry.path());
                }
            }
        } else if (fs::is_regular_file(arg, ec)) {
            files.push_back(arg);
        } else {
            std::fprintf(stderr, "fuzz replay: %s is neither a file nor a directory\n", argv[i]);
            return 2;
        }
    }
    std::sort(files.begin(), files.end());

    int ran = 0;
    std::vector<uint8_t> data;
    for (const fs::path& file : files) {
        if (!readFile(file, &data)) {
            std::fprintf(stderr, "fuzz replay: cannot read %s\n", file.c_str());
            return 2;
        }
        // Announce the input first: if it crashes, the last line names it.
        std::fprintf(stderr, "fuzz replay: %s (%zu bytes)\n", file.c_str(), data.size());
        std::fflush(stderr);
        // Copy into an exactly-sized buffer so ASan catches reads past the end, as under libFuzzer.
        std::vector<uint8_t> exact(data.begin(), data.end());
        LLVMFuzzerTestOneInput(exact.empty() ? nullptr : exact.data(), exact.size());
        ++ran;
    }
    std::printf("fuzz replay: %d inputs ran\n", ran);
    if (ran == 0) {
        std::fprintf(stderr, "fuzz replay: no inputs found; is the corpus path right?\n");
        return 1;
    }
    return 0;
}
