// backprop.hpp — the C++17 binding of libbackprop: header-only, over include/backprop.h.
//
//  - backprop::Network owns a bp_network: move-only, released by its destructor.
//  - Every fallible call has a form try_<name>(...) returning a backprop::Status (the
//    bp_status and bp_last_error()'s text, read on the calling thread right after the
//    call), which throws nothing but std::bad_alloc, and, when exceptions are enabled, a
//    form <name>(...) that throws backprop::Error carrying that Status. Code built with
//    -fno-exceptions gets the try_ forms only.
//  - Arrays are backprop::Floats / backprop::MutableFloats views: a pointer and a count,
//    made implicitly from std::vector<float>, C arrays, std::array and (C++20) std::span.
//    A view's count must be whole rows of the network's width, checked here with a
//    readable message before the C call (BP_ERROR_SIZE_MISMATCH).
//  - Thread-safety is the header's: predict(), evaluate() and evaluate_metrics() are const
//    and may run on many threads at once while nothing changes the network; every other
//    member needs the network to itself.
//  - Constants (activations, losses, options...) are the C header's BP_* values.
#ifndef BACKPROP_HPP
#define BACKPROP_HPP

#include "backprop/support.hpp"

namespace backprop {

/// A multilayer perceptron of the library (see include/backprop.h for every call's
/// semantics, each equation's function and each status).
class Network {
public:
    /// An empty handle; assign a created one to it.
    Network() noexcept = default;
    Network(Network &&other) noexcept : net_(std::exchange(other.net_, nullptr)) {}
    Network &operator=(Network &&other) noexcept {
        if (this != &other) {
            bp_destroy(net_);
            net_ = std::exchange(other.net_, nullptr);
        }
        return *this;
    }
    Network(const Network &) = delete;
    Network &operator=(const Network &) = delete;
    ~Network() { bp_destroy(net_); }

    /// Takes ownership of a handle from the C API (nullptr: empty).
    explicit Network(bp_network *handle) noexcept : net_(handle) {}
    /// Gives the handle up: the caller then releases it with bp_destroy().
    bp_network *release() noexcept { return std::exchange(net_, nullptr); }
    bp_network *get() noexcept { return net_; }
    const bp_network *get() const noexcept { return net_; }
    explicit operator bool() const noexcept { return net_ != nullptr; }

    // MARK: Creation (bp_create, bp_load*, bp_import_onnx*)

    static Status try_create(const std::vector<std::size_t> &layers, const std::vector<int32_t> &activations,
                             int32_t loss, uint64_t seed, Network &out) {
        if (activations.size() + 1 != layers.size())
            return Status(BP_ERROR_SIZE_MISMATCH, std::to_string(activations.size()) + " activations for " +
                                                      std::to_string(layers.size()) + " layers; expected one per layer after the input");
        return adopt(bp_create(layers.data(), layers.size(), activations.data(), loss, seed, &out.reset()), out);
    }
    static Status try_load(const std::string &path, Network &out) { return adopt(bp_load(path.c_str(), &out.reset()), out); }
    static Status try_from_bytes(const std::vector<unsigned char> &model, Network &out) {
        return adopt(bp_load_from_buffer(model.data(), model.size(), &out.reset()), out);
    }
    static Status try_import_onnx(const std::string &path, int32_t loss, Network &out) {
        return adopt(bp_import_onnx(path.c_str(), loss, &out.reset()), out);
    }
    static Status try_import_onnx(const std::vector<unsigned char> &model, int32_t loss, Network &out) {
        return adopt(bp_import_onnx_from_buffer(model.data(), model.size(), loss, &out.reset()), out);
    }

#if BACKPROP_EXCEPTIONS
    Network(const std::vector<std::size_t> &layers, const std::vector<int32_t> &activations, int32_t loss, uint64_t seed = 0) {
        check(try_create(layers, activations, loss, seed, *this));
    }
    static Network load(const std::string &path) { return made(&try_load, path); }
    static Network from_bytes(const std::vector<unsigned char> &model) { return made(&try_from_bytes, model); }
    static Network import_onnx(const std::string &path, int32_t loss = BP_ONNX_LOSS_AUTO) {
        Network out;
        check(try_import_onnx(path, loss, out));
        return out;
    }
    static Network import_onnx(const std::vector<unsigned char> &model, int32_t loss = BP_ONNX_LOSS_AUTO) {
        Network out;
        check(try_import_onnx(model, loss, out));
        return out;
    }
#endif

    // MARK: Shape (never fail on a network)

    std::size_t input_size() const noexcept { return bp_input_size(net_); }
    std::size_t output_size() const noexcept { return bp_output_size(net_); }
    std::size_t parameter_count() const noexcept { return bp_parameter_count(net_); }
    std::size_t layer_count() const noexcept { return bp_layer_count(net_); }
    std::size_t layer_size(std::size_t index) const noexcept { return bp_layer_size(net_, index); }
    int32_t activation(std::size_t layer) const noexcept { return bp_layer_activation(net_, layer); }
    int32_t loss() const noexcept { return bp_loss_function(net_); }
    std::size_t thread_count() const noexcept { return bp_thread_count(net_); }

    // MARK: Inference (const: thread-safe among themselves)

    Status try_predict(Floats inputs, MutableFloats outputs) const {
        std::size_t batch = 0;
        if (Status s = rows(inputs.size, input_size(), "inputs", batch); !s) return s;
        if (Status s = expect(outputs.size, batch * output_size(), "outputs"); !s) return s;
        return Status::of(bp_predict(net_, inputs.data, batch, outputs.data));
    }
    Status try_evaluate(Floats inputs, Floats targets, float &loss, float &accuracy) const {
        std::size_t count = 0;
        if (Status s = rows_of_both(inputs, targets, count); !s) return s;
        return Status::of(bp_evaluate(net_, inputs.data, targets.data, count, &loss, &accuracy));
    }
    Status try_evaluate_weighted(Floats inputs, Floats targets, Floats weights, float &loss, float &accuracy) const {
        std::size_t count = 0;
        if (Status s = rows_of_both(inputs, targets, count); !s) return s;
        if (Status s = expect(weights.size, count, "weights"); !s) return s;
        return Status::of(bp_evaluate_weighted(net_, inputs.data, targets.data, weights.data, count, &loss, &accuracy));
    }
    /// bp_evaluate_metrics(); `weights` may be empty; `confusion` empty or output classes².
    Status try_evaluate_metrics(Floats inputs, Floats targets, Floats weights, bp_metrics &metrics,
                                std::vector<double> *confusion = nullptr) const {
        std::size_t count = 0;
        if (Status s = rows_of_both(inputs, targets, count); !s) return s;
        if (weights.size != 0)
            if (Status s = expect(weights.size, count, "weights"); !s) return s;
        metrics.struct_size = sizeof(bp_metrics);
        return Status::of(bp_evaluate_metrics(net_, inputs.data, targets.data, weights.size ? weights.data : nullptr, count,
                                              &metrics, confusion ? confusion->data() : nullptr, confusion ? confusion->size() : 0));
    }

    // MARK: The backpropagation steps

    Status try_forward(Floats inputs, MutableFloats outputs, bool training = false) {
        std::size_t batch = 0;
        if (Status s = rows(inputs.size, input_size(), "inputs", batch); !s) return s;
        if (outputs.data != nullptr)
            if (Status s = expect(outputs.size, batch * output_size(), "outputs"); !s) return s;
        return Status::of((training ? bp_forward_train : bp_forward)(net_, inputs.data, batch, outputs.data));
    }
    Status try_backward(Floats targets, float *loss = nullptr) {
        std::size_t batch = 0;
        if (Status s = rows(targets.size, output_size(), "targets", batch); !s) return s;
        return Status::of(bp_backward(net_, targets.data, batch, loss));
    }
    Status try_backward_weighted(Floats targets, Floats weights, float *loss = nullptr) {
        std::size_t batch = 0;
        if (Status s = rows(targets.size, output_size(), "targets", batch); !s) return s;
        if (Status s = expect(weights.size, batch, "weights"); !s) return s;
        return Status::of(bp_backward_weighted(net_, targets.data, weights.data, batch, loss));
    }
    Status try_update(float learning_rate) { return Status::of(bp_update(net_, learning_rate)); }
    Status try_train_step(Floats inputs, Floats targets, float learning_rate, float *loss = nullptr) {
        std::size_t batch = 0;
        if (Status s = rows_of_both(inputs, targets, batch); !s) return s;
        return Status::of(bp_train_step(net_, inputs.data, targets.data, batch, learning_rate, loss));
    }
    Status try_train_step_weighted(Floats inputs, Floats targets, Floats weights, float learning_rate, float *loss = nullptr) {
        std::size_t batch = 0;
        if (Status s = rows_of_both(inputs, targets, batch); !s) return s;
        if (Status s = expect(weights.size, batch, "weights"); !s) return s;
        return Status::of(bp_train_step_weighted(net_, inputs.data, targets.data, weights.data, batch, learning_rate, loss));
    }

    // MARK: Training on a data set

    /// bp_fit() with `progress` a callable taking a const bp_epoch_report& and returning
    /// bool (false stops) or nothing; `history`, if given, receives every epoch's report.
    /// An exception the callable throws stops training and is rethrown by fit().
    template <class Callback>
    Status try_fit(Floats inputs, Floats targets, FitOptions options, Callback &&progress,
                   std::vector<bp_epoch_report> *history = nullptr) {
        std::size_t count = 0;
        if (Status s = rows_of_both(inputs, targets, count); !s) return s;
        detail::Progress<std::remove_reference_t<Callback>> bridge(progress);
        options.progress = &decltype(bridge)::call;
        options.user_data = &bridge;
        std::vector<bp_epoch_report> reports(history ? options.epochs : 0);
        std::size_t epochs = 0;
        Status status = Status::of(bp_fit(net_, inputs.data, targets.data, count, &options, reports.data(), reports.size(), &epochs));
#if BACKPROP_EXCEPTIONS
        if (bridge.failure) std::rethrow_exception(bridge.failure);
#endif
        if (history) history->assign(reports.begin(), reports.begin() + static_cast<std::ptrdiff_t>(epochs < reports.size() ? epochs : reports.size()));
        return status;
    }
    Status try_fit(Floats inputs, Floats targets, FitOptions options = FitOptions(), std::vector<bp_epoch_report> *history = nullptr) {
        return try_fit(inputs, targets, options, [](const bp_epoch_report &) {}, history);
    }

    // MARK: Options, schedule, dropout, threads

    Status try_set_option(int32_t key, double value) { return Status::of(bp_set_option(net_, key, value)); }
    Status try_get_option(int32_t key, double &value) const { return Status::of(bp_get_option(net_, key, &value)); }
    Status try_scheduled_learning_rate(float base_rate, float &rate) const {
        return Status::of(bp_scheduled_learning_rate(net_, base_rate, &rate));
    }
    Status try_end_epoch(std::size_t samples, float monitored_loss) { return Status::of(bp_end_epoch(net_, samples, monitored_loss)); }
    Status try_set_dropout(Floats rates, uint64_t seed) { return Status::of(bp_set_dropout(net_, rates.data, rates.size, seed)); }
    Status try_get_dropout(MutableFloats rates) const { return Status::of(bp_get_dropout(net_, rates.data, rates.size)); }
    Status try_set_threads(std::size_t threads) { return Status::of(bp_set_threads(net_, threads)); }

    // MARK: Parameters, gradients, scaling

    Status try_get_parameters(MutableFloats out) const { return Status::of(bp_get_parameters(net_, out.data, out.size)); }
    Status try_set_parameters(Floats in) { return Status::of(bp_set_parameters(net_, in.data, in.size)); }
    Status try_initialize(int32_t scheme, uint64_t seed) { return Status::of(bp_initialize(net_, scheme, seed)); }
    Status try_get_gradients(MutableFloats out) const { return Status::of(bp_get_gradients(net_, out.data, out.size)); }
    Status try_set_gradients(Floats in) { return Status::of(bp_set_gradients(net_, in.data, in.size)); }
    Status try_set_input_scaling(Floats shift, Floats scale) {
        if (Status s = expect(scale.size, shift.size, "scale"); !s) return s;
        return Status::of(bp_set_input_scaling(net_, shift.data, scale.data, shift.size));
    }
    Status try_get_input_scaling(MutableFloats shift, MutableFloats scale) const {
        if (Status s = expect(scale.size, shift.size, "scale"); !s) return s;
        return Status::of(bp_get_input_scaling(net_, shift.data, scale.data, shift.size));
    }
    Status try_standardize_inputs(Floats inputs) {
        std::size_t count = 0;
        if (Status s = rows(inputs.size, input_size(), "inputs", count); !s) return s;
        return Status::of(bp_standardize_inputs(net_, inputs.data, count));
    }
    Status try_set_target_scaling(Floats shift, Floats scale) {
        if (Status s = expect(scale.size, shift.size, "scale"); !s) return s;
        return Status::of(bp_set_target_scaling(net_, shift.data, scale.data, shift.size));
    }
    Status try_get_target_scaling(MutableFloats shift, MutableFloats scale) const {
        if (Status s = expect(scale.size, shift.size, "scale"); !s) return s;
        return Status::of(bp_get_target_scaling(net_, shift.data, scale.data, shift.size));
    }
    Status try_standardize_targets(Floats targets) {
        std::size_t count = 0;
        if (Status s = rows(targets.size, output_size(), "targets", count); !s) return s;
        return Status::of(bp_standardize_targets(net_, targets.data, count));
    }

    // MARK: Models out (bp_save*, bp_export_onnx*, bp_export_c_source)

    Status try_save(const std::string &path) const { return Status::of(bp_save(net_, path.c_str())); }
    Status try_to_bytes(std::vector<unsigned char> &out) const { return written(&bp_save_to_buffer, out); }
    Status try_export_onnx(const std::string &path) const { return Status::of(bp_export_onnx(net_, path.c_str())); }
    Status try_export_onnx(std::vector<unsigned char> &out) const { return written(&bp_export_onnx_to_buffer, out); }
    Status try_export_c_source(const std::string &path, const std::string &prefix, uint32_t options = BP_C_SOURCE_FLOAT) const {
        return Status::of(bp_export_c_source(net_, path.c_str(), prefix.c_str(), options));
    }

#if BACKPROP_EXCEPTIONS
    // MARK: The throwing forms

    void predict(Floats inputs, MutableFloats outputs) const { check(try_predict(inputs, outputs)); }
    std::vector<float> predict(Floats inputs) const { return filled(inputs, [&](MutableFloats out) { return try_predict(inputs, out); }); }
    std::pair<float, float> evaluate(Floats inputs, Floats targets) const {
        float loss = 0, accuracy = 0;
        check(try_evaluate(inputs, targets, loss, accuracy));
        return {loss, accuracy};
    }
    bp_metrics evaluate_metrics(Floats inputs, Floats targets, Floats weights = Floats()) const {
        bp_metrics metrics{};
        check(try_evaluate_metrics(inputs, targets, weights, metrics));
        return metrics;
    }
    std::vector<float> forward(Floats inputs, bool training = false) {
        return filled(inputs, [&](MutableFloats out) { return try_forward(inputs, out, training); });
    }
    float backward(Floats targets) {
        float loss = 0;
        check(try_backward(targets, &loss));
        return loss;
    }
    void update(float learning_rate) { check(try_update(learning_rate)); }
    float train_step(Floats inputs, Floats targets, float learning_rate) {
        float loss = 0;
        check(try_train_step(inputs, targets, learning_rate, &loss));
        return loss;
    }
    template <class Callback>
    std::vector<bp_epoch_report> fit(Floats inputs, Floats targets, FitOptions options, Callback &&progress) {
        std::vector<bp_epoch_report> history;
        check(try_fit(inputs, targets, options, std::forward<Callback>(progress), &history));
        return history;
    }
    std::vector<bp_epoch_report> fit(Floats inputs, Floats targets, FitOptions options = FitOptions()) {
        return fit(inputs, targets, options, [](const bp_epoch_report &) {});
    }
    void set_option(int32_t key, double value) { check(try_set_option(key, value)); }
    double option(int32_t key) const {
        double value = 0;
        check(try_get_option(key, value));
        return value;
    }
    void set_threads(std::size_t threads) { check(try_set_threads(threads)); }
    std::vector<float> parameters() const {
        std::vector<float> out(parameter_count());
        check(try_get_parameters(out));
        return out;
    }
    void set_parameters(Floats in) { check(try_set_parameters(in)); }
    std::vector<float> gradients() const {
        std::vector<float> out(parameter_count());
        check(try_get_gradients(out));
        return out;
    }
    void set_gradients(Floats in) { check(try_set_gradients(in)); }
    void save(const std::string &path) const { check(try_save(path)); }
    std::vector<unsigned char> to_bytes() const {
        std::vector<unsigned char> out;
        check(try_to_bytes(out));
        return out;
    }
    void export_onnx(const std::string &path) const { check(try_export_onnx(path)); }
    std::vector<unsigned char> to_onnx() const {
        std::vector<unsigned char> out;
        check(try_export_onnx(out));
        return out;
    }
#endif

private:
    bp_network *net_ = nullptr;

    /// Releases the network held and returns the slot a creating call writes.
    bp_network *&reset() noexcept {
        bp_destroy(std::exchange(net_, nullptr));
        return net_;
    }

    static Status adopt(bp_status code, Network &out) { return code == BP_OK ? Status() : (out.net_ = nullptr, Status::of(code)); }

    static Status expect(std::size_t got, std::size_t want, const char *what) {
        if (got == want) return Status();
        return Status(BP_ERROR_SIZE_MISMATCH, std::string(what) + " holds " + std::to_string(got) + " floats; expected " + std::to_string(want));
    }

    /// The rows of `count` floats of `width`: whole rows, at least one.
    static Status rows(std::size_t count, std::size_t width, const char *what, std::size_t &batch) {
        if (width == 0) return Status(BP_ERROR_NULL_ARGUMENT, "the network is empty");
        if (count == 0 || count % width != 0)
            return Status(BP_ERROR_SIZE_MISMATCH, std::string(what) + " holds " + std::to_string(count) +
                                                      " floats; expected a positive multiple of " + std::to_string(width));
        batch = count / width;
        return Status();
    }

    Status rows_of_both(Floats inputs, Floats targets, std::size_t &count) const {
        if (Status s = rows(inputs.size, input_size(), "inputs", count); !s) return s;
        return expect(targets.size, count * output_size(), "targets");
    }

    template <class Writer>
    Status written(Writer writer, std::vector<unsigned char> &out) const {
        std::size_t size = 0;
        if (Status s = Status::of(writer(net_, nullptr, 0, &size)); !s) return s;
        out.resize(size);
        return Status::of(writer(net_, out.data(), out.size(), &size));
    }

#if BACKPROP_EXCEPTIONS
    template <class Argument>
    static Network made(Status (*make)(const Argument &, Network &), const Argument &argument) {
        Network out;
        check(make(argument, out));
        return out;
    }

    template <class Fill>
    std::vector<float> filled(Floats inputs, Fill fill) const {
        std::vector<float> out(input_size() ? inputs.size / input_size() * output_size() : 0);
        check(fill(MutableFloats(out)));
        return out;
    }
#endif
};

} // namespace backprop

#endif // BACKPROP_HPP
