// backprop.hpp with -fno-exceptions: the try_ forms alone, every failure a Status.
#include "backprop.hpp"

#include <cstdio>
#include <vector>

int main() {
    int failures = 0;
    backprop::Network net;
    backprop::Status s = backprop::Network::try_create({2, 4, 1}, {BP_TANH, BP_SIGMOID}, BP_LOSS_MSE, 1, net);
    if (!s || !net) { std::fprintf(stderr, "FAIL create: %s\n", s.message().c_str()); ++failures; }
    const std::vector<float> x = {0, 0, 0, 1, 1, 0, 1, 1}, y = {0, 1, 1, 0};
    float loss = 1;
    for (int i = 0; i < 3000 && s; ++i) s = net.try_train_step(x, y, 0.5f, &loss);
    if (!s || loss > 0.05f) { std::fprintf(stderr, "FAIL train: %s, loss %g\n", s.message().c_str(), loss); ++failures; }
    std::vector<float> out(4);
    s = net.try_predict(x, out);
    if (!s || out[1] < 0.5f || out[0] > 0.5f) { std::fprintf(stderr, "FAIL predict\n"); ++failures; }
    s = net.try_backward(y);  // the last step kept no activations
    if (s.code() != BP_ERROR_STATE || s.message().empty()) { std::fprintf(stderr, "FAIL: backward gave %d\n", s.code()); ++failures; }
    backprop::Network missing;
    s = backprop::Network::try_load("/nonexistent.bpm", missing);
    if (s.code() != BP_ERROR_IO || missing) { std::fprintf(stderr, "FAIL: load gave %d\n", s.code()); ++failures; }
    std::printf("C++ binding without exceptions: %d failure(s)\n", failures);
    return failures == 0 ? 0 : 1;
}
