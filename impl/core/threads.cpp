#include "impl/core/threads.hpp"

#include <omp.h>

namespace convconf {

void set_threads(int n) { omp_set_num_threads(n < 1 ? 1 : n); }
int max_threads() { return omp_get_max_threads(); }

}  // namespace convconf
