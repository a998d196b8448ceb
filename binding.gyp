{
  "targets": [
    {
      "target_name": "l4tun",
      "sources": ["native/tun.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
