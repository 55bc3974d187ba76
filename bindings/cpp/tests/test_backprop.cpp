// Tests of bindings/cpp/include/backprop.hpp, built by scripts/test-bindings with g++ and
// clang++ (-std=c++17 and -std=c++20, -Wall -Wextra -Werror -pedantic):
// ownership and moves, every error path as a Status and as an Error, gradients against
// central finite differences, a fit that reaches 95% with a callable callback (that can
// stop training, and whose exception comes back out of fit), const predict on two threads,
// model files, ONNX and C source, and a model file shared with the Python package.
//
// Usage: test_backprop [--write-model FILE | --check-model FILE]: the model-file exchange
// with Python (bindings/cpp/tests/exchange.py).
#include "backprop.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

static int failures = 0, checks = 0;

#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        ++checks;                                                                                                      \
        if (!(cond)) {                                                                                                 \
            ++failures;                                                                                                \
            std::fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                                  \
            std::fprintf(stderr, __VA_ARGS__);                                                                         \
            std::fprintf(stderr, "\n");                                                                                \
        }                                                                                                              \
    } while (0)

// A status must be `want` with a message; the throwing form's Error must carry the same.
template <class Call>
static void expect_error(bp_status want, const char *what, Call call) {
    try {
        call();
        CHECK(false, "%s: no error, expected status %d", what, static_cast<int>(want));
    } catch (const backprop::Error &error) {
        CHECK(error.code() == want, "%s: status %d, expected %d (%s)", what, static_cast<int>(error.code()),
              static_cast<int>(want), error.what());
        CHECK(std::strlen(error.what()) > 0 && error.status().message() == error.what(), "%s: no message", what);
    }
}

static backprop::Network small_network(uint64_t seed = 3) {
    return backprop::Network({3, 5, 4}, {BP_TANH, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY, seed);
}

static void test_ownership() {
    backprop::Network a = small_network();
    bp_network *handle = a.get();
    backprop::Network b(std::move(a));
    CHECK(!a && b && b.get() == handle, "a move leaves the source empty and the target holding the handle");
    a = std::move(b);
    CHECK(a.get() == handle && !b, "move assignment");
    CHECK(a.input_size() == 3 && a.output_size() == 4 && a.layer_count() == 3 && a.layer_size(1) == 5, "shape");
    CHECK(a.activation(1) == BP_TANH && a.activation(2) == BP_SOFTMAX && a.loss() == BP_LOSS_CROSS_ENTROPY, "codes");
    CHECK(a.parameter_count() == 3 * 5 + 5 + 5 * 4 + 4, "parameter count");
    bp_network *raw = a.release();
    backprop::Network c(raw);
    CHECK(!a && c.get() == raw, "release and adopt");
}

static void test_errors() {
    backprop::Network net = small_network();
    std::vector<float> x(6, 0.5f), y = {1, 0, 0, 0, 0, 1, 0, 0}, out(8);
    backprop::Network empty;
    backprop::Status s = backprop::Network::try_create({2, 3}, {BP_TANH, BP_TANH}, BP_LOSS_MSE, 1, empty);
    CHECK(s.code() == BP_ERROR_SIZE_MISMATCH && !s.message().empty() && !empty, "activation count: %s", s.message().c_str());
    expect_error(BP_ERROR_UNKNOWN_ENUM, "activation 99", [] { backprop::Network({2, 3}, {99}, BP_LOSS_MSE); });
    expect_error(BP_ERROR_INVALID_ARCHITECTURE, "cross-entropy on tanh",
                 [] { backprop::Network({2, 3}, {BP_TANH}, BP_LOSS_CROSS_ENTROPY); });
    expect_error(BP_ERROR_INVALID_ARGUMENT, "a layer of 0", [] { backprop::Network({2, 0, 1}, {BP_TANH, BP_TANH}, BP_LOSS_MSE); });
    expect_error(BP_ERROR_SIZE_MISMATCH, "inputs not whole rows", [&] { net.predict(std::vector<float>(5, 0.f)); });
    expect_error(BP_ERROR_SIZE_MISMATCH, "outputs too small", [&] { net.predict(x, backprop::MutableFloats(out.data(), 7)); });
    expect_error(BP_ERROR_SIZE_MISMATCH, "targets", [&] { net.train_step(x, std::vector<float>(3, 0.f), 0.1f); });
    expect_error(BP_ERROR_STATE, "backward before forward", [&] { net.backward(y); });
    expect_error(BP_ERROR_STATE, "update without gradients", [&] { net.update(0.1f); });
    expect_error(BP_ERROR_STATE, "gradients before backward", [&] { net.gradients(); });
    expect_error(BP_ERROR_STATE, "set_gradients before backward", [&] { net.set_gradients(std::vector<float>(net.parameter_count(), 0.f)); });
    std::vector<float> bad = x;
    bad[2] = NAN;
    expect_error(BP_ERROR_NON_FINITE, "a NaN input", [&] { net.predict(bad); });
    expect_error(BP_ERROR_INVALID_ARGUMENT, "a negative learning rate", [&] { net.train_step(x, y, -1.f); });
    expect_error(BP_ERROR_UNKNOWN_ENUM, "option key 999", [&] { net.set_option(999, 1); });
    expect_error(BP_ERROR_SIZE_MISMATCH, "parameters", [&] { net.set_parameters(std::vector<float>(3, 0.f)); });
    expect_error(BP_ERROR_IO, "a missing file", [] { backprop::Network::load("/nonexistent/model.bpm"); });
    expect_error(BP_ERROR_NOT_A_MODEL, "bytes that are not a model", [] { backprop::Network::from_bytes({1, 2, 3, 4, 5, 6, 7, 8, 9}); });
    expect_error(BP_ERROR_CORRUPT_MODEL, "bytes that are not ONNX", [] { backprop::Network::import_onnx(std::vector<unsigned char>{0x0F, 1, 2}); });
    std::vector<float> shift(2, 0.f), scale(3, 1.f);
    CHECK(net.try_set_input_scaling(shift, scale).code() == BP_ERROR_SIZE_MISMATCH, "scaling lengths");
    CHECK(net.try_export_c_source("/tmp/x.cpp", "net").code() == BP_ERROR_INVALID_ARGUMENT, "a C source path not .c");
    CHECK(backprop::check_cpu().ok() && std::string(backprop::version()) == BP_VERSION_STRING && backprop::abi_matches(),
          "cpu, version and ABI");
}

// ∂C/∂θ of backward against (C(θ + ε) − C(θ − ε)) / 2ε, the loss from evaluate().
static void test_gradients() {
    backprop::Network net = small_network(5);
    std::vector<float> x = {0.3f, -1.2f, 0.8f, 1.5f, 0.1f, -0.4f}, y = {0, 1, 0, 0, 0, 0, 0, 1};
    net.forward(x);
    net.backward(y);
    std::vector<float> analytic = net.gradients(), theta = net.parameters();
    std::vector<float> doubled = analytic;
    for (float &g : doubled) g *= 2;
    net.set_gradients(doubled);  // a data-parallel loop's reduction: read, combine, set
    CHECK(net.gradients() == doubled, "set_gradients then gradients");
    double worst = 0;
    for (std::size_t i = 0; i < theta.size(); ++i) {
        const float eps = 1e-2f;
        std::vector<float> moved = theta;
        moved[i] = theta[i] + eps;
        net.set_parameters(moved);
        float up = net.evaluate(x, y).first;
        moved[i] = theta[i] - eps;
        net.set_parameters(moved);
        float down = net.evaluate(x, y).first;
        double numeric = (static_cast<double>(up) - down) / (2.0 * eps);
        worst = std::fmax(worst, std::fabs(numeric - analytic[i]) / std::fmax(1e-2, std::fabs(numeric)));
    }
    CHECK(worst < 2e-2, "gradients vs finite differences: worst relative error %g", worst);
}

static void blobs(std::size_t count, uint64_t seed, std::vector<float> &x, std::vector<float> &y) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> noise(0.f, 0.6f);
    x.clear();
    y.clear();
    for (std::size_t i = 0; i < count; ++i) {
        int label = static_cast<int>(i % 3);
        x.push_back(std::cos(2.1f * label) * 2 + noise(rng));
        x.push_back(std::sin(2.1f * label) * 2 + noise(rng));
        for (int k = 0; k < 3; ++k) y.push_back(k == label ? 1.f : 0.f);
    }
}

static void test_fit() {
    backprop::Network net({2, 16, 3}, {BP_RELU, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY, 7);
    net.set_option(BP_OPTION_OPTIMIZER, BP_OPTIMIZER_ADAM);
    std::vector<float> x, y, tx, ty;
    blobs(600, 1, x, y);
    blobs(300, 2, tx, ty);
    backprop::FitOptions options;
    options.epochs = 40;
    options.learning_rate = 0.01f;
    int calls = 0;
    auto history = net.fit(x, y, options, [&](const bp_epoch_report &report) {
        ++calls;
        return report.epoch < 25;  // stop after epoch 25
    });
    CHECK(calls == 25 && history.size() == 25 && history.back().epoch == 25, "the callback stopped training: %d calls", calls);
    float accuracy = net.evaluate(tx, ty).second;
    CHECK(accuracy >= 0.95f, "held-out accuracy %.3f, expected at least 0.95", accuracy);
    bool rethrown = false;
    try {
        net.fit(x, y, options, [](const bp_epoch_report &) -> bool { throw std::runtime_error("from the callback"); });
    } catch (const std::runtime_error &error) {
        rethrown = std::string(error.what()) == "from the callback";
    }
    CHECK(rethrown, "an exception in the callback comes back out of fit");
    bp_metrics metrics = net.evaluate_metrics(tx, ty);  // after the stopped fit's one epoch
    CHECK(std::fabs(metrics.accuracy - net.evaluate(tx, ty).second) < 1e-6f, "metrics agree with evaluate");
}

static void test_const_predict_on_threads() {
    const backprop::Network net = small_network(9);
    std::vector<float> x(3 * 64);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i));
    const std::vector<float> expected = net.predict(x);
    std::vector<float> a, b;
    std::thread one([&] { for (int i = 0; i < 50; ++i) a = net.predict(x); });
    std::thread two([&] { for (int i = 0; i < 50; ++i) b = net.predict(x); });
    one.join();
    two.join();
    CHECK(a == expected && b == expected, "predict on two threads gives the same bits");
}

static void test_models_out() {
    backprop::Network net = small_network(11);
    std::vector<float> x = {0.1f, 0.2f, 0.3f, -1, 0, 1};
    const std::vector<float> expected = net.predict(x);
    CHECK(backprop::Network::from_bytes(net.to_bytes()).predict(x) == expected, "model bytes round trip");
    CHECK(backprop::Network::import_onnx(net.to_onnx()).predict(x) == expected, "ONNX round trip");
    net.save("/tmp/backprop-cpp-test.bpm");
    CHECK(backprop::Network::load("/tmp/backprop-cpp-test.bpm").predict(x) == expected, "model file round trip");
    std::remove("/tmp/backprop-cpp-test.bpm");
    CHECK(net.try_export_c_source("/tmp/backprop_cpp_test.c", "cpptest", BP_C_SOURCE_INT8).ok(), "C source");
    std::ifstream header("/tmp/backprop_cpp_test.h");
    std::string text((std::istreambuf_iterator<char>(header)), std::istreambuf_iterator<char>());
    CHECK(text.find("void cpptest_predict(const float *input, float *output);") != std::string::npos, "the C header");
    std::remove("/tmp/backprop_cpp_test.c");
    std::remove("/tmp/backprop_cpp_test.h");
}

// The model file exchanged with Python: a fixed network's outputs for fixed inputs.
static const std::vector<float> exchange_inputs = {0.5f, -1.f, 2.f, 0.f, 0.25f, -0.75f};

static int write_model(const char *path) {
    backprop::Network net = small_network(21);
    net.save(path);
    for (float v : net.predict(exchange_inputs)) std::printf("%.9g\n", v);
    return 0;
}

static int check_model(const char *path) {
    for (float v : backprop::Network::load(path).predict(exchange_inputs)) std::printf("%.9g\n", v);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && std::strcmp(argv[1], "--write-model") == 0) return write_model(argv[2]);
    if (argc == 3 && std::strcmp(argv[1], "--check-model") == 0) return check_model(argv[2]);
    test_ownership();
    test_errors();
    test_gradients();
    test_fit();
    test_const_predict_on_threads();
    test_models_out();
    std::printf("C++ binding: %d of %d checks failed\n", failures, checks);
    return failures == 0 ? 0 : 1;
}
