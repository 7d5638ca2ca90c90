{
  "targets": [
    {
      "target_name": "packet",
      "sources": ["src/packet.c", "src/tcp_md5.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
