{
  "targets": [
    {
      "target_name": "packet",
      "sources": ["src/packet.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
