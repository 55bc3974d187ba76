// Compiled with every build, never linked: each line fails to type-check when the
// prototype in include/backprop.h and the @_cdecl function exported under the same name
// disagree on any parameter or return type. Regenerate the list when adding a function.
import CBackpropABI
import CBackprop

private func same<Signature>(_ declared: Signature, _ implemented: Signature) {}

func checkPrototypesMatchImplementations() {
    same(CBackpropABI.bp_abi_version, CBackprop.bp_abi_version)
    same(CBackpropABI.bp_backward, CBackprop.bp_backward)
    same(CBackpropABI.bp_create, CBackprop.bp_create)
    same(CBackpropABI.bp_destroy, CBackprop.bp_destroy)
    same(CBackpropABI.bp_evaluate, CBackprop.bp_evaluate)
    same(CBackpropABI.bp_fit, CBackprop.bp_fit)
    same(CBackpropABI.bp_fit_options_init, CBackprop.bp_fit_options_init)
    same(CBackpropABI.bp_forward, CBackprop.bp_forward)
    same(CBackpropABI.bp_get_gradients, CBackprop.bp_get_gradients)
    same(CBackpropABI.bp_get_option, CBackprop.bp_get_option)
    same(CBackpropABI.bp_get_parameters, CBackprop.bp_get_parameters)
    same(CBackpropABI.bp_input_size, CBackprop.bp_input_size)
    same(CBackpropABI.bp_last_error, CBackprop.bp_last_error)
    same(CBackpropABI.bp_layer_activation, CBackprop.bp_layer_activation)
    same(CBackpropABI.bp_layer_count, CBackprop.bp_layer_count)
    same(CBackpropABI.bp_layer_size, CBackprop.bp_layer_size)
    same(CBackpropABI.bp_load, CBackprop.bp_load)
    same(CBackpropABI.bp_load_from_buffer, CBackprop.bp_load_from_buffer)
    same(CBackpropABI.bp_loss_function, CBackprop.bp_loss_function)
    same(CBackpropABI.bp_output_size, CBackprop.bp_output_size)
    same(CBackpropABI.bp_parameter_count, CBackprop.bp_parameter_count)
    same(CBackpropABI.bp_predict, CBackprop.bp_predict)
    same(CBackpropABI.bp_save, CBackprop.bp_save)
    same(CBackpropABI.bp_save_to_buffer, CBackprop.bp_save_to_buffer)
    same(CBackpropABI.bp_set_option, CBackprop.bp_set_option)
    same(CBackpropABI.bp_set_parameters, CBackprop.bp_set_parameters)
    same(CBackpropABI.bp_set_threads, CBackprop.bp_set_threads)
    same(CBackpropABI.bp_status_string, CBackprop.bp_status_string)
    same(CBackpropABI.bp_thread_count, CBackprop.bp_thread_count)
    same(CBackpropABI.bp_train_step, CBackprop.bp_train_step)
    same(CBackpropABI.bp_update, CBackprop.bp_update)
    same(CBackpropABI.bp_version, CBackprop.bp_version)
    same(CBackpropABI.bp_kernels, CBackprop.bp_kernels)
}
