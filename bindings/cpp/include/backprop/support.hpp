// backprop/support.hpp — the pieces of backprop.hpp around the Network class: Status
// and Error, the array views, FitOptions, the library-wide calls and fit's callback
// bridge. Include backprop.hpp, not this file.
#ifndef BACKPROP_SUPPORT_HPP
#define BACKPROP_SUPPORT_HPP

#include "backprop.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#if __cplusplus >= 202002L && defined(__has_include)
#if __has_include(<span>)
#include <span>
#define BACKPROP_HAS_SPAN 1
#endif
#endif

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#define BACKPROP_EXCEPTIONS 1
#include <exception>
#include <stdexcept>
#endif

namespace backprop {

/// The outcome of a call: BP_OK, or a BP_ERROR_* status and its message.
class Status {
public:
    Status() noexcept = default;
    Status(bp_status code, std::string message) : code_(code), message_(std::move(message)) {}

    /// The status of the C call that just returned `code`, with bp_last_error()'s text.
    static Status of(bp_status code) {
        if (code == BP_OK) return Status();
        const char *text = bp_last_error();
        return Status(code, text != nullptr && *text != '\0' ? text : bp_status_string(code));
    }

    bp_status code() const noexcept { return code_; }
    bool ok() const noexcept { return code_ == BP_OK; }
    explicit operator bool() const noexcept { return ok(); }
    /// bp_last_error()'s text, empty for BP_OK.
    const std::string &message() const noexcept { return message_; }
    /// bp_status_string(): the status's generic description.
    const char *description() const noexcept { return bp_status_string(code_); }

private:
    bp_status code_ = BP_OK;
    std::string message_;
};

#if BACKPROP_EXCEPTIONS
/// What the throwing forms throw: what() is the message; status() the whole Status.
class Error : public std::runtime_error {
public:
    explicit Error(Status status) : std::runtime_error(status.message()), status_(std::move(status)) {}
    const Status &status() const noexcept { return status_; }
    bp_status code() const noexcept { return status_.code(); }

private:
    Status status_;
};

/// Throws Error unless `status` is OK.
inline void check(const Status &status) {
    if (!status.ok()) throw Error(status);
}
#endif

/// A read-only view of floats: a pointer and a count.
struct Floats {
    const float *data = nullptr;
    std::size_t size = 0;

    Floats() noexcept = default;
    Floats(const float *pointer, std::size_t count) noexcept : data(pointer), size(count) {}
    Floats(const std::vector<float> &values) noexcept : data(values.data()), size(values.size()) {}
    template <std::size_t N>
    Floats(const float (&values)[N]) noexcept : data(values), size(N) {}
    template <std::size_t N>
    Floats(const std::array<float, N> &values) noexcept : data(values.data()), size(N) {}
#if BACKPROP_HAS_SPAN
    Floats(std::span<const float> values) noexcept : data(values.data()), size(values.size()) {}
#endif
};

/// A writable view of floats: a pointer and a count.
struct MutableFloats {
    float *data = nullptr;
    std::size_t size = 0;

    MutableFloats() noexcept = default;
    MutableFloats(float *pointer, std::size_t count) noexcept : data(pointer), size(count) {}
    MutableFloats(std::vector<float> &values) noexcept : data(values.data()), size(values.size()) {}
    template <std::size_t N>
    MutableFloats(float (&values)[N]) noexcept : data(values), size(N) {}
    template <std::size_t N>
    MutableFloats(std::array<float, N> &values) noexcept : data(values.data()), size(N) {}
#if BACKPROP_HAS_SPAN
    MutableFloats(std::span<float> values) noexcept : data(values.data()), size(values.size()) {}
#endif
};

/// bp_fit()'s options, its defaults from bp_fit_options_init(); the arrays they point to
/// (validation data, weights) must outlive the fit.
struct FitOptions : bp_fit_options {
    FitOptions() noexcept : bp_fit_options() { bp_fit_options_init_sized(this, sizeof(bp_fit_options)); }
};

/// The library's version ("0.1.0"), whether its ABI is this header's, its kernels
/// ("avx512", "portable" or "none") and whether this CPU runs it (bp_check_cpu()).
inline const char *version() noexcept { return bp_version(); }
/// Whether the loaded library has the ABI this header was compiled against.
inline bool abi_matches() noexcept { return bp_abi_version() == BP_ABI_VERSION; }
inline const char *kernels() noexcept { return bp_kernels(); }
inline Status check_cpu() { return Status::of(bp_check_cpu()); }

namespace detail {
/// Calls a (callback, report) pair for bp_fit(): a callable returning bool (false stops)
/// or nothing. An exception it throws stops training and is rethrown after bp_fit().
template <class Callback>
struct Progress {
    Callback &callback;
#if BACKPROP_EXCEPTIONS
    std::exception_ptr failure{};
#endif

    explicit Progress(Callback &function) noexcept : callback(function) {}

    static int call(const bp_epoch_report *report, void *user) noexcept {
        auto &self = *static_cast<Progress *>(user);
#if BACKPROP_EXCEPTIONS
        try {
#endif
            if constexpr (std::is_same_v<decltype(self.callback(*report)), void>) {
                self.callback(*report);
                return 1;
            } else {
                return self.callback(*report) ? 1 : 0;
            }
#if BACKPROP_EXCEPTIONS
        } catch (...) {
            self.failure = std::current_exception();
            return 0;
        }
#endif
    }
};
} // namespace detail

} // namespace backprop

#endif // BACKPROP_SUPPORT_HPP
