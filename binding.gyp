{
  "targets": [
    {
      "target_name": "lateral_nfq",
      "sources": ["native/addon.cc", "native/nfQueue.cc", "native/capabilities.cc", "native/spawnCapture.cc", "native/patternScan.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "<!@(pkg-config --cflags libmnl)"],
      "libraries": ["<!@(pkg-config --libs libmnl)"]
    }
  ]
}
