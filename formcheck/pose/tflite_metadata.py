"""Add image-input TFLite metadata to a ``.tflite`` model, in pure Python.

MediaPipe Tasks refuses a float32 image model without metadata that says how to normalise
its input ("it requires specifying NormalizationOptions metadata"). The metadata is a
``ModelMetadata`` flatbuffer (file identifier ``M001``) stored as one of the model's buffers
and referenced by a model ``Metadata`` entry named ``TFLITE_METADATA``; the model is then
re-packed with file identifier ``TFL3``. This mirrors what TFLite Support's
``MetadataPopulator`` does, using only the flatbuffers object API that mediapipe ships
(``mediapipe.tasks.metadata.*_py_generated``) and the ``flatbuffers`` package.
"""

from __future__ import annotations

import flatbuffers
import numpy as np
from mediapipe.tasks.metadata import (
    metadata_schema_py_generated as meta_fb,
)
from mediapipe.tasks.metadata import (
    schema_py_generated as tflite_fb,
)

TFLITE_FILE_IDENTIFIER = b"TFL3"
METADATA_FILE_IDENTIFIER = b"M001"
METADATA_FIELD_NAME = "TFLITE_METADATA"
# Oldest metadata parser that understands ImageProperties and NormalizationOptions.
METADATA_MIN_PARSER_VERSION = "1.0.0"
# TFLite's schema declares Buffer.data with force_align 16; the Python builder ignores it,
# so buffers are written by hand to keep weights where the converter put them.
BUFFER_ALIGNMENT_BYTES = 16
# Extra room in the flatbuffers builder beyond the input size, for the new metadata.
BUILDER_HEADROOM_BYTES = 64 * 1024
PIXEL_MIN = 0.0
PIXEL_MAX = 255.0
IMAGE_RANK = 4  # NHWC
IMAGE_CHANNELS = 3
METADATA_LICENSE = "Apache-2.0"
METADATA_AUTHOR = "Google (MediaPipe model); metadata added by formcheck"


class _AlignedBufferT(tflite_fb.BufferT):  # type: ignore[misc,unused-ignore]
    """A model buffer whose data is packed at a 16-byte boundary."""

    def Pack(self, builder: flatbuffers.Builder) -> int:  # noqa: N802 (flatbuffers API name)
        data_offset = None
        if self.data is not None:
            payload = np.asarray(self.data, dtype=np.uint8).tobytes()
            builder.StartVector(1, len(payload), BUFFER_ALIGNMENT_BYTES)
            builder.head = builder.head - len(payload)
            builder.Bytes[builder.head : builder.head + len(payload)] = payload
            data_offset = builder.EndVector()
        tflite_fb.BufferStart(builder)
        if data_offset is not None:
            tflite_fb.BufferAddData(builder, data_offset)
        tflite_fb.BufferAddOffset(builder, self.offset)
        tflite_fb.BufferAddSize(builder, self.size)
        return int(tflite_fb.BufferEnd(builder))


def _aligned(buffer: tflite_fb.BufferT) -> _AlignedBufferT:
    aligned = _AlignedBufferT()
    aligned.data = buffer.data
    aligned.offset = buffer.offset
    aligned.size = buffer.size
    return aligned


def _name(raw: bytes | str | None, fallback: str) -> str:
    if raw is None:
        return fallback
    return raw.decode("utf-8") if isinstance(raw, bytes) else raw


def _indices(values: object) -> list[int]:
    """Tensor indices from the object API (a numpy array, a list or None) as ints."""
    return [] if values is None else [int(value) for value in values]  # type: ignore[attr-defined]


def _feature_content() -> meta_fb.ContentT:
    content = meta_fb.ContentT()
    content.contentPropertiesType = meta_fb.ContentProperties.FeatureProperties
    content.contentProperties = meta_fb.FeaturePropertiesT()
    return content


def _image_input_metadata(tensor_name: str, mean: float, std: float) -> meta_fb.TensorMetadataT:
    image_properties = meta_fb.ImagePropertiesT()
    image_properties.colorSpace = meta_fb.ColorSpaceType.RGB
    content = meta_fb.ContentT()
    content.contentPropertiesType = meta_fb.ContentProperties.ImageProperties
    content.contentProperties = image_properties

    normalization = meta_fb.NormalizationOptionsT()
    normalization.mean = [mean]
    normalization.std = [std]
    process_unit = meta_fb.ProcessUnitT()
    process_unit.optionsType = meta_fb.ProcessUnitOptions.NormalizationOptions
    process_unit.options = normalization

    stats = meta_fb.StatsT()
    stats.min = [(PIXEL_MIN - mean) / std]
    stats.max = [(PIXEL_MAX - mean) / std]

    tensor = meta_fb.TensorMetadataT()
    tensor.name = tensor_name
    tensor.description = "RGB image, normalised as (pixel - mean) / std."
    tensor.content = content
    tensor.processUnits = [process_unit]
    tensor.stats = stats
    return tensor


def _output_metadata(tensor_name: str) -> meta_fb.TensorMetadataT:
    tensor = meta_fb.TensorMetadataT()
    tensor.name = tensor_name
    tensor.content = _feature_content()
    tensor.stats = meta_fb.StatsT()
    return tensor


def _check_image_model(model: tflite_fb.ModelT) -> tflite_fb.SubGraphT:
    if not model.subgraphs or len(model.subgraphs) != 1:
        raise ValueError("expected a TFLite model with exactly one subgraph")
    subgraph = model.subgraphs[0]
    if len(_indices(subgraph.inputs)) != 1:
        raise ValueError("expected a TFLite model with exactly one input tensor")
    image = subgraph.tensors[subgraph.inputs[0]]
    shape = list(image.shape) if image.shape is not None else []
    if len(shape) != IMAGE_RANK or shape[-1] != IMAGE_CHANNELS:
        raise ValueError(f"expected an NHWC RGB input tensor, got shape {shape}")
    if image.type != tflite_fb.TensorType.FLOAT32:
        raise ValueError("expected a float32 input tensor")
    for buffer in model.buffers or []:
        if buffer.offset > 1:
            raise ValueError("models with buffers stored outside the flatbuffer are not supported")
    return subgraph


def build_model_metadata(model: tflite_fb.ModelT, *, mean: float, std: float, name: str) -> bytes:
    """The packed ``ModelMetadata`` (identifier M001) for an image model's single subgraph."""
    subgraph = _check_image_model(model)
    input_tensor = subgraph.tensors[subgraph.inputs[0]]
    subgraph_metadata = meta_fb.SubGraphMetadataT()
    subgraph_metadata.inputTensorMetadata = [
        _image_input_metadata(_name(input_tensor.name, "image"), mean, std)
    ]
    subgraph_metadata.outputTensorMetadata = [
        _output_metadata(_name(subgraph.tensors[index].name, f"output_{position}"))
        for position, index in enumerate(_indices(subgraph.outputs))
    ]
    model_metadata = meta_fb.ModelMetadataT()
    model_metadata.name = name
    model_metadata.author = METADATA_AUTHOR
    model_metadata.license = METADATA_LICENSE
    model_metadata.minParserVersion = METADATA_MIN_PARSER_VERSION
    model_metadata.subgraphMetadata = [subgraph_metadata]

    builder = flatbuffers.Builder(0)
    builder.Finish(model_metadata.Pack(builder), file_identifier=METADATA_FILE_IDENTIFIER)
    return bytes(builder.Output())


def _attach_metadata(model: tflite_fb.ModelT, metadata: bytes) -> None:
    """Store ``metadata`` in the TFLITE_METADATA buffer, replacing an existing one."""
    buffer = tflite_fb.BufferT()
    buffer.data = np.frombuffer(metadata, dtype=np.uint8)
    model.buffers = list(model.buffers or [])
    model.metadata = list(model.metadata or [])
    for entry in model.metadata:
        if _name(entry.name, "") == METADATA_FIELD_NAME:
            model.buffers[entry.buffer] = buffer
            return
    model.buffers.append(buffer)
    entry = tflite_fb.MetadataT()
    entry.name = METADATA_FIELD_NAME
    entry.buffer = len(model.buffers) - 1
    model.metadata.append(entry)


def add_image_metadata(tflite: bytes, *, mean: float, std: float, name: str) -> bytes:
    """Return ``tflite`` re-packed with image-input metadata: RGB, ``(pixel - mean) / std``.

    Any existing TFLITE_METADATA is replaced. Raises ValueError for a model that is not a
    single-input float32 RGB image model.
    """
    if not tflite_fb.Model.ModelBufferHasIdentifier(tflite, 0):
        raise ValueError("not a TFLite model (file identifier TFL3 missing)")
    if std <= 0.0:
        raise ValueError(f"std must be positive, got {std}")
    model = tflite_fb.ModelT.InitFromPackedBuf(bytearray(tflite), 0)
    _attach_metadata(model, build_model_metadata(model, mean=mean, std=std, name=name))
    model.buffers = [_aligned(buffer) for buffer in model.buffers]
    builder = flatbuffers.Builder(len(tflite) + BUILDER_HEADROOM_BYTES)
    builder.Finish(model.Pack(builder), file_identifier=TFLITE_FILE_IDENTIFIER)
    return bytes(builder.Output())


def read_model_metadata(tflite: bytes) -> meta_fb.ModelMetadataT | None:
    """The model's TFLITE_METADATA as an object tree, or None when it has none."""
    model = tflite_fb.Model.GetRootAs(tflite, 0)
    for index in range(model.MetadataLength()):
        entry = model.Metadata(index)
        if _name(entry.Name(), "") != METADATA_FIELD_NAME:
            continue
        data = model.Buffers(entry.Buffer()).DataAsNumpy()
        if isinstance(data, int):  # flatbuffers returns 0 for an absent vector
            return None
        raw = data.tobytes()
        if not meta_fb.ModelMetadata.ModelMetadataBufferHasIdentifier(raw, 0):
            return None
        return meta_fb.ModelMetadataT.InitFromPackedBuf(raw, 0)
    return None


def normalization_of(metadata: meta_fb.ModelMetadataT) -> tuple[float, float] | None:
    """(mean, std) of the first input's NormalizationOptions, when it has one."""
    inputs = metadata.subgraphMetadata[0].inputTensorMetadata or []
    for unit in (inputs[0].processUnits or []) if inputs else []:
        if unit.optionsType == meta_fb.ProcessUnitOptions.NormalizationOptions:
            return float(unit.options.mean[0]), float(unit.options.std[0])
    return None
