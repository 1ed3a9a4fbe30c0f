// How many threads the variants' parallel regions (OpenMP, and oneDNN's, which uses the
// same runtime) may use. Conformance checks run many tiny problems, where a second thread
// only adds hand-off and spin-waiting (measured: the conformance run took 3-4x longer
// with 2 OpenMP threads than with 1), so the tool and the tests default to 1; benchmarks
// choose their own.
#pragma once

namespace convconf {

void set_threads(int n);
int max_threads();

}  // namespace convconf
