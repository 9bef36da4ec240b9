"""Pixel implementations of the simulated node set (Pillow, and numpy for float images).

Results must be real files with real pixels so the scheduler, downloads, shared-storage mapping
and frame sequences are tested end to end. Types: IMAGE and LATENT are lists of RGB images (a
batch), MASK a list of "L" images, MODEL/CLIP/VAE/CONDITIONING plain strings. A server with PyAV
image loading (0.21+) loads EXR and 16-bit PNG as float (numpy float32, sim/float_images.py);
LoadImage, LoadImageMask, MaskToImage, ImageInvert and the savers keep them float, every other
node sees them 8-bit. The sampler is a stand-in: a deterministic picture made from the seed,
blended with the incoming latent by `denoise`, so img2img keeps the plate's structure and
txt2img gives a seed-specific image.
"""

from __future__ import annotations

import json
import random
import struct
from typing import Any, Callable, Dict, List, Optional, Tuple

from PIL import Image, ImageFilter, ImageOps
from PIL.PngImagePlugin import PngInfo

from nuke_comfyui.sim import float_images, save_advanced
from nuke_comfyui.sim.catalog import SIM_MODEL
from nuke_comfyui.sim.files import Folders

Images = List[Image.Image]
NodeResult = Tuple[Tuple[Any, ...], Optional[Dict[str, Any]]]

_RESAMPLE = {
    "nearest-exact": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "area": Image.Resampling.BOX,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "bislerp": Image.Resampling.BILINEAR,
}
SAMPLERS = ("KSampler", "KSamplerAdvanced")


class NodeContext:
    """What a node may touch besides its inputs: the server folders and the prompt for metadata."""

    def __init__(self, folders: Folders, prompt: Dict[str, Any], extra_data: Dict[str, Any],
                 profile: Optional[Any] = None) -> None:
        self.folders = folders
        self.prompt = prompt
        self.extra_data = extra_data
        self.pyav_images = bool(getattr(profile, "pyav_images", False))  # 0.21+: EXR and 16-bit PNG as float
        self.aligned_float_width = bool(getattr(profile, "aligned_float_width", False))  # 0.25+


def _resize(img: Image.Image, width: int, height: int, method: str, crop: str = "disabled") -> Image.Image:
    if width == 0 and height == 0:
        return img.copy()
    if width == 0:
        width = max(1, round(img.width * height / img.height))
    if height == 0:
        height = max(1, round(img.height * width / img.width))
    if crop == "center":
        return ImageOps.fit(img, (width, height), method=_RESAMPLE.get(method, Image.Resampling.BILINEAR))
    return img.resize((width, height), _RESAMPLE.get(method, Image.Resampling.BILINEAR))


def _f32(value: float) -> float:
    return float(struct.unpack("f", struct.pack("f", value))[0])


# ComfyUI computes a mask as 1 - alpha / 255 in float32 and its SaveImage stores 255 * x truncated
# to uint8, so a saved mask is sometimes one level under 255 - alpha (alpha 191 -> 63, not 64; seen
# on a real ComfyUI 0.8.0). The simulator keeps 8-bit masks, so it applies that rounding at load.
MASK_FROM_ALPHA = [int(_f32(_f32(1.0 - _f32(a / 255.0)) * 255.0)) for a in range(256)]


def _mask_of_alpha(alpha: Image.Image) -> Image.Image:
    return alpha.point(MASK_FROM_ALPHA)


def load_image(ctx: NodeContext, *, image: str) -> NodeResult:
    path = ctx.folders.annotated_path(image)
    if path is None or not path.is_file():
        raise FileNotFoundError(f"[Errno 2] No such file or directory: '{path}'")
    if ctx.pyav_images and float_images.needs_float_path(path):
        return float_images.load(path, ctx.aligned_float_width), None
    with Image.open(path) as src:
        src.load()
        rgb = src.convert("RGB")
        has_alpha = "A" in src.getbands()
        mask = _mask_of_alpha(src.getchannel("A")) if has_alpha else Image.new("L", (64, 64), 0)
    return ([rgb], [mask]), None


def load_image_mask(ctx: NodeContext, *, image: str, channel: str) -> NodeResult:
    """ComfyUI's LoadImageMask: the chosen channel as the mask, alpha inverted (1 - alpha) like LoadImage."""
    path = ctx.folders.annotated_path(image)
    if path is None or not path.is_file():
        raise FileNotFoundError(f"[Errno 2] No such file or directory: '{path}'")
    if ctx.pyav_images and float_images.needs_float_path(path):
        images, masks = float_images.load(path, ctx.aligned_float_width)
        band = channel[:1].upper()
        return ([masks[0] if band == "A" else images[0][..., "RGB".index(band)]],), None
    with Image.open(path) as src:
        src.load()
        rgba = src if src.getbands() == ("R", "G", "B", "A") else src.convert("RGBA")
        band = channel[:1].upper()
        mask = rgba.getchannel(band) if band in rgba.getbands() else Image.new("L", (64, 64), 0)
        if band == "A":
            mask = _mask_of_alpha(mask)
    return ([mask],), None


def mask_to_image(ctx: NodeContext, *, mask: Images) -> NodeResult:
    return ([numpy_rgb(m) if float_images.is_float(m) else m.convert("RGB") for m in mask],), None


def numpy_rgb(mask: Any) -> Any:
    """A float mask as a float RGB image (MaskToImage repeats it over three channels)."""
    import numpy

    return numpy.repeat(mask[..., None], 3, axis=-1).astype(numpy.float32)


def _save(ctx: NodeContext, images: Images, prefix: str, kind: str) -> Dict[str, Any]:
    results = []
    for img in float_images.as_8bit(list(images)):
        path, filename, subfolder = ctx.folders.next_save_path(kind, prefix)
        meta = PngInfo()
        meta.add_text("prompt", json.dumps(ctx.prompt))
        for key, value in (ctx.extra_data.get("extra_pnginfo") or {}).items():
            meta.add_text(str(key), json.dumps(value))
        img.save(path, pnginfo=meta, compress_level=4 if kind == "output" else 1)
        results.append({"filename": filename, "subfolder": subfolder, "type": kind})
    return {"images": results}


def save_image(ctx: NodeContext, *, images: Images, filename_prefix: str = "ComfyUI") -> NodeResult:
    return (), _save(ctx, images, filename_prefix, "output")


def preview_image(ctx: NodeContext, *, images: Images) -> NodeResult:
    tag = "".join(random.choice("abcdefghijklmnopqrstupvxyz") for _ in range(5))
    return (), _save(ctx, images, f"ComfyUI_temp_{tag}", "temp")


def image_invert(ctx: NodeContext, *, image: Images) -> NodeResult:
    return ([1.0 - i if float_images.is_float(i) else ImageOps.invert(i) for i in image],), None


def image_scale(
    ctx: NodeContext, *, image: Images, upscale_method: str, width: int, height: int, crop: str
) -> NodeResult:
    return ([_resize(i, width, height, upscale_method, crop) for i in image],), None


def image_scale_by(ctx: NodeContext, *, image: Images, upscale_method: str, scale_by: float) -> NodeResult:
    out = [
        _resize(i, max(1, round(i.width * scale_by)), max(1, round(i.height * scale_by)), upscale_method)
        for i in image
    ]
    return (out,), None


def image_blur(ctx: NodeContext, *, image: Images, blur_radius: int, sigma: float) -> NodeResult:
    return ([i.filter(ImageFilter.GaussianBlur(sigma * min(blur_radius, 3))) for i in image],), None


def image_sharpen(
    ctx: NodeContext, *, image: Images, sharpen_radius: int, sigma: float, alpha: float
) -> NodeResult:
    f = ImageFilter.UnsharpMask(radius=sharpen_radius, percent=int(alpha * 100), threshold=0)
    return ([i.filter(f) for i in image],), None


def empty_image(
    ctx: NodeContext, *, width: int, height: int, batch_size: int = 1, color: int = 0
) -> NodeResult:
    rgb = ((color >> 16) & 0xFF, (color >> 8) & 0xFF, color & 0xFF)
    return ([Image.new("RGB", (width, height), rgb) for _ in range(batch_size)],), None


def image_batch(ctx: NodeContext, *, image1: Images, image2: Images) -> NodeResult:
    size = image1[0].size
    return (list(image1) + [i if i.size == size else i.resize(size) for i in image2],), None


def repeat_image_batch(ctx: NodeContext, *, image: Images, amount: int) -> NodeResult:
    return ([i.copy() for _ in range(amount) for i in image],), None


def image_from_batch(ctx: NodeContext, *, image: Images, batch_index: int, length: int) -> NodeResult:
    start = min(batch_index, len(image) - 1)
    return (image[start : start + length],), None


def checkpoint_loader(ctx: NodeContext, *, ckpt_name: str) -> NodeResult:
    return (f"MODEL:{ckpt_name or SIM_MODEL}", f"CLIP:{ckpt_name}", f"VAE:{ckpt_name}"), None


def clip_text_encode(ctx: NodeContext, *, text: str, clip: str) -> NodeResult:
    return (f"COND:{text}",), None


def empty_latent(ctx: NodeContext, *, width: int, height: int, batch_size: int = 1) -> NodeResult:
    return ([Image.new("RGB", (width, height), (0, 0, 0)) for _ in range(batch_size)],), None


def vae_encode(ctx: NodeContext, *, pixels: Images, vae: str) -> NodeResult:
    return ([i.copy() for i in pixels],), None


def vae_decode(ctx: NodeContext, *, samples: Images, vae: str) -> NodeResult:
    return ([i.copy() for i in samples],), None


def latent_upscale(
    ctx: NodeContext, *, samples: Images, upscale_method: str, width: int, height: int, crop: str
) -> NodeResult:
    return ([_resize(i, width, height, upscale_method, crop) for i in samples],), None


def seed_picture(seed: int, size: Tuple[int, int]) -> Image.Image:
    """A smooth, seed-specific picture: coarse random colours scaled up (fast even at 2K)."""
    rng = random.Random(seed)
    cw, ch = max(2, size[0] // 16), max(2, size[1] // 16)
    coarse = Image.frombytes("RGB", (cw, ch), rng.randbytes(cw * ch * 3))
    return coarse.resize(size, Image.Resampling.BICUBIC)


def sample(latent: Images, seed: int, denoise: float) -> Images:
    """The KSampler stand-in: blend each latent with the seed's picture by `denoise`."""
    out = []
    for index, img in enumerate(latent):
        noise = seed_picture(seed + index, img.size)
        out.append(Image.blend(img.convert("RGB"), noise, max(0.0, min(1.0, float(denoise)))))
    return out


def ksampler(
    ctx: NodeContext,
    *,
    model: str,
    seed: int,
    steps: int,
    cfg: float,
    sampler_name: str,
    scheduler: str,
    positive: str,
    negative: str,
    latent_image: Images,
    denoise: float = 1.0,
) -> NodeResult:
    return (sample(latent_image, seed, denoise),), None


def ksampler_advanced(
    ctx: NodeContext,
    *,
    model: str,
    add_noise: str,
    noise_seed: int,
    steps: int,
    cfg: float,
    sampler_name: str,
    scheduler: str,
    positive: str,
    negative: str,
    latent_image: Images,
    start_at_step: int = 0,
    end_at_step: int = 10000,
    return_with_leftover_noise: str = "disable",
) -> NodeResult:
    if add_noise == "disable":
        return ([i.copy() for i in latent_image],), None
    done = max(0, min(end_at_step, steps) - start_at_step)
    return (sample(latent_image, noise_seed, done / max(1, steps)),), None


FUNCTIONS: Dict[str, Callable[..., NodeResult]] = {
    "LoadImage": load_image,
    "LoadImageMask": load_image_mask,
    "MaskToImage": mask_to_image,
    "SaveImage": save_image,
    "PreviewImage": preview_image,
    "ImageInvert": image_invert,
    "ImageScale": image_scale,
    "ImageScaleBy": image_scale_by,
    "ImageBlur": image_blur,
    "ImageSharpen": image_sharpen,
    "EmptyImage": empty_image,
    "ImageBatch": image_batch,
    "RepeatImageBatch": repeat_image_batch,
    "ImageFromBatch": image_from_batch,
    "CheckpointLoaderSimple": checkpoint_loader,
    "CLIPTextEncode": clip_text_encode,
    "EmptyLatentImage": empty_latent,
    "VAEEncode": vae_encode,
    "VAEDecode": vae_decode,
    "LatentUpscale": latent_upscale,
    "KSampler": ksampler,
    "KSamplerAdvanced": ksampler_advanced,
}


def _batch_functions() -> Dict[str, Callable[..., NodeResult]]:
    from nuke_comfyui.sim.batch_nodes import FUNCTIONS as BATCH

    return BATCH


FUNCTIONS.update(_batch_functions())

#: the nodes that keep float images float; every other node gets them 8-bit (float_images.eight_bit)
FLOAT_AWARE = ("LoadImage", "LoadImageMask", "MaskToImage", "SaveImage", "PreviewImage", "ImageInvert")
FUNCTIONS.update({name: float_images.eight_bit(function) for name, function in FUNCTIONS.items()
                  if name not in FLOAT_AWARE})
FUNCTIONS.update(save_advanced.FUNCTIONS)


def latent_megapixels(latent: Images) -> float:
    """Pixels the sampler must hold, in megapixels (drives the simulated out-of-memory fault)."""
    return sum(i.width * i.height for i in latent) / 1_000_000.0
