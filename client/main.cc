// client/main.cc: foobar, the client of foobard; all of it is in
// client/app.cc (see foobar --help, foobar(1)).
#include "client/app.h"

int main(int argc, char** argv) { return foobar::client::Main(argc, argv); }
