/// Each activation σ as C99 for the generated source (`CSourceExport`): a static function
/// applying σ to n values in place, with <math.h>'s float functions for the
/// transcendental ones. Only the functions a network uses are written, so that
/// -Wunused-function stays quiet.
enum CSourceActivations {
    /// The statement applying σ to `v[i]`, or nil for linear (nothing to do) and softmax
    /// (a row operation, `softmax` below).
    static func elementwise(_ activation: Activation) -> String? {
        switch activation {
        case .sigmoid: return "v[i] = 1.0f / (1.0f + expf(-v[i]));"
        case .tanh: return "v[i] = tanhf(v[i]);"
        case .relu: return "if (v[i] < 0.0f) v[i] = 0.0f;"
        case .leakyRelu: return "if (v[i] < 0.0f) v[i] *= \(CSourceExport.literal(Activation.leakySlope));"
        case .gelu: return "v[i] = 0.5f * v[i] * (1.0f + erff(v[i] * 0.70710678f));"
        case .silu: return "v[i] = v[i] / (1.0f + expf(-v[i]));"
        case .softplus: return "v[i] = fmaxf(v[i], 0.0f) + log1pf(expf(-fabsf(v[i])));"
        case .elu: return "if (v[i] < 0.0f) v[i] = expm1f(v[i]);"
        case .linear, .softmax: return nil
        }
    }

    /// The C function applying σ to a row, named `<prefix>_<σ>`, or nil for linear.
    static func function(_ activation: Activation, prefix: String) -> String? {
        let name = functionName(activation, prefix: prefix)
        if activation == .softmax {
            return """
                static void \(name)(float *v, int n)
                {
                    float largest = v[0], sum = 0.0f;
                    int i;
                    for (i = 1; i < n; i++)
                        if (v[i] > largest) largest = v[i];
                    for (i = 0; i < n; i++) {
                        v[i] = expf(v[i] - largest);
                        sum += v[i];
                    }
                    for (i = 0; i < n; i++)
                        v[i] /= sum;
                }

                """
        }
        guard let statement = elementwise(activation) else { return nil }
        return """
            static void \(name)(float *v, int n)
            {
                int i;
                for (i = 0; i < n; i++)
                    \(statement)
            }

            """
    }

    static func functionName(_ activation: Activation, prefix: String) -> String {
        prefix + "_" + String(activation.name.map { $0 == "-" ? "_" : $0 })
    }
}
