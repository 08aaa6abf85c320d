#include "intelergy/config/config.hpp"
