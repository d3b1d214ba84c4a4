// doctest 2.4.9 (Debian 12) installs no doctest_with_main, so the suite builds its own.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
