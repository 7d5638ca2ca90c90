// TCP MD5-signed connections for the BGP speaker (tcp_md5.c).
#pragma once
#include <node_api.h>

void tcp_md5_register(napi_env env, napi_value exports);
