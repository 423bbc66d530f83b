// daemon/main.cc: foobard, the echo daemon; all of it is in daemon/app.cc.
#include "daemon/app.h"

int main(int argc, char** argv) { return foobard::Main(argc, argv); }
