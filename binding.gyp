# node-gyp / prebuildify build of the addon over the same sources as CMakeLists.txt
# (native/sources.cmake). AVX2 kernels are a separate static library so -mavx2 -mfma reach
# those files only; the rest of the binary runs on any x86-64. C++ exceptions are on, and any
# std::exception escaping a binding becomes a JS error (node_addon_api_except_all).
{
  'target_defaults': {
    'cflags_cc': ['-std=c++17', '-O3', '-fPIC', '-fvisibility=hidden'],
    'cflags_cc!': ['-std=gnu++17', '-std=gnu++20'],
    'xcode_settings': {'CLANG_CXX_LANGUAGE_STANDARD': 'c++17', 'OTHER_CPLUSPLUSFLAGS': ['-O3']},
    'conditions': [
      ['target_arch=="x64"', {'defines': ['CONVNODE_HAVE_AVX2', 'CONVNODE_HAVE_AVX512']}],
      ['target_arch=="arm64"', {'defines': ['CONVNODE_HAVE_NEON']}],
    ],
  },
  'targets': [
    {
      'target_name': 'convnode',
      'dependencies': ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except_all"],
      'defines': ['NAPI_VERSION=8', 'NODE_ADDON_API_DISABLE_DEPRECATED'],
      'sources': [
        'native/kernels/f32-gemm/f32-gemm-4x8-scalar.cc',
        'native/kernels/f32-gemm/f32-gemm-pack.cc',
        'native/kernels/f32-im2col/f32-im2col-pack.cc',
        'native/kernels/f32-dwconv/f32-dwconv-general-scalar.cc',
        'native/kernels/f32-maxpool/f32-maxpool-general-scalar.cc',
        'native/kernels/f32-avgpool/f32-avgpool-general-scalar.cc',
        'native/kernels/f32-gpool/f32-gpool-scalar.cc',
        'native/kernels/f32-winograd/f32-winograd-2x2-scalar.cc',
        'native/runtime/cpu.cc',
        'native/runtime/dispatch.cc',
        'native/runtime/fma-probe-scalar.cc',
        'native/runtime/scratch.cc',
        'native/runtime/thread_pool.cc',
        'native/ops/conv2d.cc',
        'native/ops/depthwise.cc',
        'native/ops/gemm_driver.cc',
        'native/ops/linear.cc',
        'native/ops/pool.cc',
        'native/ops/task_split.cc',
        'native/ops/window.cc',
        'native/ops/winograd.cc',
        'native/napi/addon.cc',
        'native/napi/arguments.cc',
        'native/napi/async_job.cc',
        'native/napi/conv_object.cc',
        'native/napi/linear_object.cc',
        'native/napi/pool_functions.cc',
      ],
      'conditions': [
        ['target_arch=="x64"', {'dependencies': ['convnode_avx2', 'convnode_avx512']}],
        ['target_arch=="arm64"', {
          'sources': [
            'native/kernels/f32-gemm/f32-gemm-8x8-neon.cc',
            'native/kernels/f32-dwconv/f32-dwconv-3x3s1-neon.cc',
            'native/kernels/f32-dwconv/f32-dwconv-3x3s2-neon.cc',
            'native/kernels/f32-maxpool/f32-maxpool-3x3s2-neon.cc',
            'native/runtime/fma-probe-neon.cc',
          ],
        }],
      ],
    },
    {
      'target_name': 'convnode_avx2',
      'type': 'static_library',
      'conditions': [
        ['target_arch=="x64"', {
          'cflags_cc': ['-mavx2', '-mfma'],
          'xcode_settings': {'OTHER_CPLUSPLUSFLAGS': ['-mavx2', '-mfma']},
          'sources': [
            'native/kernels/f32-gemm/f32-gemm-6x16-avx2.cc',
            'native/kernels/f32-dwconv/f32-dwconv-3x3s1-avx2.cc',
            'native/kernels/f32-dwconv/f32-dwconv-3x3s2-avx2.cc',
            'native/kernels/f32-maxpool/f32-maxpool-3x3s2-avx2.cc',
            'native/kernels/f32-winograd/f32-winograd-2x2-avx2.cc',
            'native/runtime/fma-probe-avx2.cc',
          ],
        }],
      ],
    },
    {
      'target_name': 'convnode_avx512',
      'type': 'static_library',
      'conditions': [
        ['target_arch=="x64"', {
          'cflags_cc': ['-mavx2', '-mfma', '-mavx512f', '-mavx512bw', '-mavx512dq', '-mavx512vl'],
          'xcode_settings': {'OTHER_CPLUSPLUSFLAGS': ['-mavx2', '-mfma', '-mavx512f', '-mavx512bw', '-mavx512dq', '-mavx512vl']},
          'sources': [
            'native/runtime/fma-probe-avx512.cc',
          ],
        }],
      ],
    },
  ],
}
