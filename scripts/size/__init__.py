"""smtpc's footprint on a Cortex-M4, as a firmware links it.

The package behind scripts/size.sh (`make size`).  The modules, in the
order the data flows through them:

  sources   what to compile: the core's files per layer, the public
            functions the test images keep, the feature switches
  build     cross-compiles and links each profile (the only module that
            needs arm-none-eabi-gcc)
  mapfile   attributes every byte of a linked image to a layer and file,
            from the linker map
  binutils  reads the output of size, nm and objdump
  stack     the worst call chain of each public function
  features  code of a switched-off feature that is linked anyway
  measure   gathers one profile's figures from the build directory
  budgets   the limits (budgets.json) and the ok/MISS verdicts
  report    the Markdown written into docs/FOOTPRINT.md

Everything but build and measure works on text and numbers only, so the
unit tests (tests/size/) run on checked-in data without a cross compiler.
Standard library only; run with /usr/bin/python3.
"""
