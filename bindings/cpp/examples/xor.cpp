// The README's example: XOR with backprop::Network, the throwing forms.
#include "backprop.hpp"

#include <cstdio>

int main() {
    try {
        backprop::Network net({2, 4, 1}, {BP_TANH, BP_SIGMOID}, BP_LOSS_MSE, 42);
        const std::vector<float> x = {0, 0, 0, 1, 1, 0, 1, 1}, y = {0, 1, 1, 0};
        backprop::FitOptions options;
        options.epochs = 2000;
        options.batch_size = 4;
        options.learning_rate = 0.5f;
        auto history = net.fit(x, y, options, [](const bp_epoch_report &report) {
            return report.train_loss > 0.001f;  // false stops training
        });
        std::vector<float> out = net.predict(x);
        std::printf("%zu epochs, loss %.5f: %.3f %.3f %.3f %.3f\n", history.size(), history.back().train_loss, out[0], out[1],
                    out[2], out[3]);
    } catch (const backprop::Error &error) {
        std::fprintf(stderr, "backprop: %s (status %d)\n", error.what(), static_cast<int>(error.code()));
        return 1;
    }
}
