// A small JSON echo service for scripts/demo: listens on 127.0.0.1 (port 0), prints
// "listening PORT", answers every request with a JSON description of it, exits on SIGTERM.

#include <csignal>
#include <iostream>
#include <string>

#include "test/support/http_backend.hpp"

int main(int argc, char** argv) {
  const std::string name = argc > 1 ? argv[1] : "backend";
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr); // threads started below inherit the mask
  parallax::test::http_backend backend(parallax::test::echo_handler(name));
  std::cout << "listening " << backend.port() << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  return 0;
}
