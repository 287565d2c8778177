# Puts a PyTorch wheel's libtorch (torch/lib and nvidia/*/lib) on LD_LIBRARY_PATH, so TorchSharp's dlopen finds CUDA
# libtorch at run time. TorchSharp reads no variable of its own for this: the dynamic loader's path decides.
# shellcheck shell=sh
site="${TORCH_SITE_PACKAGES:-$(python3 -c 'import torch, os; print(os.path.dirname(os.path.dirname(torch.__file__)))' 2>/dev/null)}"
if [ -n "$site" ] && [ -d "$site/torch/lib" ]; then
  extra="$site/torch/lib"
  for d in "$site"/nvidia/*/lib; do [ -d "$d" ] && extra="$extra:$d"; done
  export LD_LIBRARY_PATH="$extra${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
