// The C++ runtime alone, linked as foobard links it: waits until killed so
// its RSS can be read.
#include <unistd.h>

int main() { pause(); }
