// The extension module shopml._shopml_ext, and shopml's exception hierarchy in Python.
#include <Python.h>

#include <exception>
#include <string>

#include "bindings.hpp"
#include "shopml/error.hpp"
#include "shopml/parallel.hpp"

namespace shopml_python {

// shopml.ShopmlError and one subclass per shopml::error kind; each is also the builtin
// exception Python code would expect (ValueError, OSError, RuntimeError), so
// `except ValueError` works as it does around numpy or scikit-learn.
void bind_errors(nb::module_& m) {
  static PyObject* base = nullptr;
  static PyObject *parse = nullptr, *shape = nullptr, *io = nullptr, *value = nullptr, *cuda = nullptr;
  const auto make = [&](const char* name, PyObject* bases, const char* doc) {
    PyObject* type = PyErr_NewExceptionWithDoc((std::string("shopml.") + name).c_str(), doc, bases, nullptr);
    if (!type) throw nb::python_error();
    m.attr(name) = nb::handle(type);
    return type;
  };
  const auto pair = [](PyObject* a, PyObject* b) { return PyTuple_Pack(2, a, b); };
  base = make("ShopmlError", PyExc_Exception, "Base of every error shopml raises; the message starts with [shopml.<kind>].");
  parse = make("ParseError", pair(base, PyExc_ValueError), "A file or buffer that does not follow its format.");
  shape = make("ShapeError", pair(base, PyExc_ValueError), "Array or matrix dimensions that do not fit together.");
  io = make("IoError", pair(base, PyExc_OSError), "A file that cannot be opened, mapped or written.");
  value = make("ShopmlValueError", pair(base, PyExc_ValueError), "A value the operation cannot accept.");
  cuda = make("CudaError", pair(base, PyExc_RuntimeError), "A failure reported by the CUDA runtime or cuBLAS.");

  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const shopml::parse_error& e) {
      PyErr_SetString(parse, e.what());
    } catch (const shopml::shape_error& e) {
      PyErr_SetString(shape, e.what());
    } catch (const shopml::io_error& e) {
      PyErr_SetString(io, e.what());
    } catch (const shopml::value_error& e) {
      PyErr_SetString(value, e.what());
    } catch (const shopml::cuda_error& e) {
      PyErr_SetString(cuda, e.what());
    } catch (const shopml::error& e) {
      PyErr_SetString(base, e.what());
    }
  });
}

}  // namespace shopml_python

namespace nb = nanobind;

NB_MODULE(_shopml_ext, m) {
  m.doc() = "shopml's C++ core (nanobind); import it as `shopml`.";
  shopml_python::bind_errors(m);
  m.def("set_num_threads", &shopml::set_num_threads, nb::arg("n"),
        "Threads every call uses when it is given threads=0 (0 = OpenMP's default).");
  m.def(
      "num_threads", [] { return shopml::num_threads(); }, "The threads a call with threads=0 uses.");
  shopml_python::bind_text(m);
  shopml_python::bind_linear_model(m);
  shopml_python::bind_recommend(m);
  shopml_python::bind_search(m);
  shopml_python::bind_train(m);
}
