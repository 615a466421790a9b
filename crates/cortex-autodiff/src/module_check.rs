//! Gradient checks with respect to a module's parameters: every float `Param` of a burn
//! `Module` becomes a checked input, substituted back into a copy of the module for each
//! evaluation.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};

use crate::args::{Args, Flatten, Input};
use crate::error::{Error, Result};
use crate::gradcheck::{GradCheck, GradCheckReport};

/// Reads every float parameter into an [`Input`] named by its module path.
#[derive(Default)]
struct CollectParams {
    path: Vec<String>,
    inputs: Vec<Input>,
    error: Option<Error>,
}

impl ModuleVisitor for CollectParams {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let name = format!("{}#{}", self.path.join("."), self.inputs.len());
        match Input::from_tensor(name, &param.val()) {
            Ok(input) => self.inputs.push(input),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
    }
}

/// Replaces each float parameter, in visiting order, by the next argument.
struct SubstituteParams<'a> {
    args: &'a Args,
    next: usize,
    error: Option<Error>,
}

impl ModuleMapper for SubstituteParams<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let index = self.next;
        self.next += 1;
        match self.args.get::<D>(index) {
            Ok(value) => param.map(|_| value),
            Err(e) => {
                self.error.get_or_insert(e);
                param
            }
        }
    }
}

impl GradCheck {
    /// Checks the gradient of `f(module, args)` with respect to `inputs` **and** every float
    /// parameter of `module` (reported after the inputs, named `path#index`).
    ///
    /// # Errors
    /// As [`GradCheck::check`]; `NotF64` when a parameter is not f64.
    pub fn check_module<M, F, O>(
        &self,
        device: &Device,
        module: &M,
        inputs: &[Input],
        f: F,
    ) -> Result<GradCheckReport>
    where
        M: Module + Clone,
        F: Fn(&M, &Args) -> Result<O>,
        O: Flatten,
    {
        let mut collect = CollectParams::default();
        module.visit(&mut collect);
        if let Some(e) = collect.error {
            return Err(e);
        }
        let first_param = inputs.len();
        let mut all = inputs.to_vec();
        all.extend(collect.inputs);
        self.check(device, &all, |args| {
            let mut substitute = SubstituteParams {
                args,
                next: first_param,
                error: None,
            };
            let copy = module.clone().map(&mut substitute);
            match substitute.error {
                Some(e) => Err(e),
                None => f(&copy, args),
            }
        })
    }
}
