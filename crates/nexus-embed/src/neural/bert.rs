//! The BERT encoder on the CPU: load the weights from safetensors, run one batch (pad to its
//! longest input, embed, the encoder layers), mean-pool the last hidden states over each
//! text's real tokens and L2-normalise.
//!
//! The matrix products are candle's (gemm, with its AVX-512 kernels where the CPU has them);
//! everything between them is a fused in-place kernel from [`super::kernels`], and the
//! embedding lookup and the pooling are plain loops over `f32` slices. The query weights are
//! pre-scaled by `1/sqrt(head size)` and the three attention projections are one product.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use serde::Deserialize;

use super::kernels::{BiasThen, MaskedSoftmax, ResidualNorm, gelu, layer_norm};

/// The fields of `config.json` the encoder needs.
#[derive(Debug, Deserialize)]
struct Config {
    hidden_size: usize,
    num_attention_heads: usize,
    num_hidden_layers: usize,
    intermediate_size: usize,
    hidden_act: String,
    layer_norm_eps: f64,
    #[serde(default)]
    model_type: Option<String>,
}

/// One layer's weights: matrices pre-transposed to `[in, out]`, vectors as plain `f32`.
struct Layer {
    qkv: Tensor,
    qkv_bias: Vec<f32>,
    attention_out: Tensor,
    attention_out_bias: Vec<f32>,
    attention_gamma: Vec<f32>,
    attention_beta: Vec<f32>,
    up: Tensor,
    up_bias: Vec<f32>,
    down: Tensor,
    down_bias: Vec<f32>,
    out_gamma: Vec<f32>,
    out_beta: Vec<f32>,
}

/// The loaded encoder.
pub(crate) struct Bert {
    hidden: usize,
    heads: usize,
    eps: f32,
    /// Word embeddings, `vocab × hidden`.
    words: Vec<f32>,
    /// Position embeddings plus the token-type-0 embedding, `positions × hidden`.
    positions: Vec<f32>,
    embed_gamma: Vec<f32>,
    embed_beta: Vec<f32>,
    layers: Vec<Layer>,
}

/// The tensors of a safetensors file, looked up by name with the model's optional prefix.
struct Weights {
    tensors: HashMap<String, Tensor>,
    prefix: String,
}

impl Weights {
    fn tensor(&self, name: &str) -> Result<&Tensor, String> {
        let key = format!("{}{name}", self.prefix);
        self.tensors.get(&key).ok_or_else(|| format!("model.safetensors: no tensor {key}"))
    }

    /// A matrix stored `[out, in]` (torch's linear layout), returned as `[in, out]`.
    fn linear(&self, name: &str, inputs: usize, outputs: usize) -> Result<Tensor, String> {
        let w = self.tensor(name)?;
        let shape_ok = w.dims() == [outputs, inputs];
        let transposed = w.to_dtype(DType::F32).and_then(|w| w.t()).and_then(|w| w.contiguous());
        match transposed {
            Ok(w) if shape_ok => Ok(w),
            Ok(_) => {
                Err(format!("model.safetensors: {name} is {:?}, expected [{outputs}, {inputs}]", w.dims()))
            }
            Err(e) => Err(format!("model.safetensors: {name}: {e}")),
        }
    }

    /// A tensor's values as `f32`, checked to hold `len` of them.
    fn values(&self, name: &str, len: usize) -> Result<Vec<f32>, String> {
        let values = self
            .tensor(name)?
            .to_dtype(DType::F32)
            .and_then(|t| t.flatten_all())
            .and_then(|t| t.to_vec1::<f32>())
            .map_err(|e| format!("model.safetensors: {name}: {e}"))?;
        if values.len() % len.max(1) != 0 || values.is_empty() {
            return Err(format!("model.safetensors: {name} has {} values, not rows of {len}", values.len()));
        }
        Ok(values)
    }
}

impl Bert {
    /// Builds the encoder from `config.json` and the safetensors weights (already verified).
    pub(crate) fn load(config: &[u8], weights: &[u8]) -> Result<Self, String> {
        let config: Config = serde_json::from_slice(config).map_err(|e| format!("config.json: {e}"))?;
        if config.hidden_act != "gelu" {
            return Err(format!("config.json: hidden_act {:?}, expected exact \"gelu\"", config.hidden_act));
        }
        let (hidden, heads) = (config.hidden_size, config.num_attention_heads);
        if heads == 0 || hidden % heads != 0 {
            return Err(format!("config.json: hidden_size {hidden} does not split into {heads} heads"));
        }
        let tensors = candle_core::safetensors::load_buffer(weights, &Device::Cpu)
            .map_err(|e| format!("model.safetensors: {e}"))?;
        let prefix = [
            String::new(),
            "bert.".to_owned(),
            config.model_type.clone().map(|t| t + ".").unwrap_or_default(),
        ]
        .into_iter()
        .find(|p| tensors.contains_key(&format!("{p}embeddings.word_embeddings.weight")))
        .ok_or("model.safetensors: no embeddings.word_embeddings.weight")?;
        let w = Weights { tensors, prefix };

        let words = w.values("embeddings.word_embeddings.weight", hidden)?;
        let mut positions = w.values("embeddings.position_embeddings.weight", hidden)?;
        let token_type = w.values("embeddings.token_type_embeddings.weight", hidden)?;
        for row in positions.chunks_exact_mut(hidden) {
            row.iter_mut().zip(&token_type).for_each(|(p, t)| *p += t);
        }
        let scale = 1.0 / ((hidden / heads) as f64).sqrt();
        let layers = (0..config.num_hidden_layers)
            .map(|i| {
                let name = |part: &str| format!("encoder.layer.{i}.{part}");
                let query = w.linear(&name("attention.self.query.weight"), hidden, hidden)?;
                let key = w.linear(&name("attention.self.key.weight"), hidden, hidden)?;
                let value = w.linear(&name("attention.self.value.weight"), hidden, hidden)?;
                let qkv = (query * scale)
                    .and_then(|q| Tensor::cat(&[&q, &key, &value], 1))
                    .map_err(|e| format!("model.safetensors: layer {i} attention: {e}"))?;
                let mut qkv_bias: Vec<f32> = w.values(&name("attention.self.query.bias"), hidden)?;
                qkv_bias.iter_mut().for_each(|b| *b *= scale as f32);
                qkv_bias.extend(w.values(&name("attention.self.key.bias"), hidden)?);
                qkv_bias.extend(w.values(&name("attention.self.value.bias"), hidden)?);
                let intermediate = config.intermediate_size;
                Ok(Layer {
                    qkv,
                    qkv_bias,
                    attention_out: w.linear(&name("attention.output.dense.weight"), hidden, hidden)?,
                    attention_out_bias: w.values(&name("attention.output.dense.bias"), hidden)?,
                    attention_gamma: w.values(&name("attention.output.LayerNorm.weight"), hidden)?,
                    attention_beta: w.values(&name("attention.output.LayerNorm.bias"), hidden)?,
                    up: w.linear(&name("intermediate.dense.weight"), hidden, intermediate)?,
                    up_bias: w.values(&name("intermediate.dense.bias"), intermediate)?,
                    down: w.linear(&name("output.dense.weight"), intermediate, hidden)?,
                    down_bias: w.values(&name("output.dense.bias"), hidden)?,
                    out_gamma: w.values(&name("output.LayerNorm.weight"), hidden)?,
                    out_beta: w.values(&name("output.LayerNorm.bias"), hidden)?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self {
            hidden,
            heads,
            eps: config.layer_norm_eps as f32,
            words,
            positions,
            embed_gamma: w.values("embeddings.LayerNorm.weight", hidden)?,
            embed_beta: w.values("embeddings.LayerNorm.bias", hidden)?,
            layers,
        })
    }

    /// Embeds one batch of token-id sequences (each non-empty, already truncated): one
    /// unit-length vector per sequence, in order.
    pub(crate) fn embed(&self, batch: &[&[u32]]) -> candle_core::Result<Vec<Vec<f32>>> {
        let h = self.hidden;
        let rows = batch.len();
        let width = batch.iter().map(|ids| ids.len()).max().unwrap_or(0);
        if rows == 0 || width == 0 {
            return Ok(vec![Vec::new(); rows]);
        }
        if width * h > self.positions.len() {
            candle_core::bail!("{width} tokens exceed the model's {} positions", self.positions.len() / h);
        }
        let lengths: Vec<usize> = batch.iter().map(|ids| ids.len()).collect();
        let mut x = vec![0f32; rows * width * h];
        for (token, out) in x.chunks_exact_mut(h).enumerate() {
            let (r, p) = (token / width, token % width);
            let id = batch[r].get(p).copied().unwrap_or(0) as usize;
            let Some(word) = self.words.get(id * h..(id + 1) * h) else {
                candle_core::bail!("token id {id} is outside the vocabulary");
            };
            let position = &self.positions[p * h..(p + 1) * h];
            for ((o, w), q) in out.iter_mut().zip(word).zip(position) {
                *o = w + q;
            }
            layer_norm(out, &self.embed_gamma, &self.embed_beta, self.eps);
        }
        let mut x = Tensor::from_vec(x, (rows * width, h), &Device::Cpu)?;
        for layer in &self.layers {
            x = self.layer(layer, &x, rows, width, &lengths)?;
        }
        let hidden = x.flatten_all()?.to_vec1::<f32>()?;
        Ok(hidden
            .chunks_exact(width * h)
            .zip(&lengths)
            .map(|(text, &len)| {
                let mut mean = vec![0f32; h];
                for token in text.chunks_exact(h).take(len) {
                    mean.iter_mut().zip(token).for_each(|(m, t)| *m += t);
                }
                let norm = mean.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
                // Mean then L2: the 1/len of the mean cancels in the normalisation.
                mean.iter_mut().for_each(|v| *v /= norm);
                mean
            })
            .collect())
    }

    /// One encoder layer over `x` (`[rows·width, hidden]`).
    fn layer(
        &self,
        layer: &Layer,
        x: &Tensor,
        rows: usize,
        width: usize,
        lengths: &[usize],
    ) -> candle_core::Result<Tensor> {
        let (h, heads) = (self.hidden, self.heads);
        let qkv = x.matmul(&layer.qkv)?;
        qkv.inplace_op1(&BiasThen { name: "bias-add", bias: &layer.qkv_bias, then: std::convert::identity })?;
        let qkv = qkv.reshape((rows, width, 3, heads, h / heads))?.permute((2, 0, 3, 1, 4))?.contiguous()?;
        let (q, k, v) = (qkv.get(0)?, qkv.get(1)?, qkv.get(2)?);
        let scores = q.matmul(&k.t()?)?; // [rows, heads, width, width]
        scores.inplace_op1(&MaskedSoftmax { lengths })?;
        let context = scores.matmul(&v)?.transpose(1, 2)?.contiguous()?.reshape((rows * width, h))?;
        let attention = context.matmul(&layer.attention_out)?;
        attention.inplace_op2(
            x,
            &ResidualNorm {
                bias: &layer.attention_out_bias,
                gamma: &layer.attention_gamma,
                beta: &layer.attention_beta,
                eps: self.eps,
            },
        )?;
        let up = attention.matmul(&layer.up)?;
        up.inplace_op1(&BiasThen { name: "bias-gelu", bias: &layer.up_bias, then: gelu })?;
        let out = up.matmul(&layer.down)?;
        out.inplace_op2(
            &attention,
            &ResidualNorm {
                bias: &layer.down_bias,
                gamma: &layer.out_gamma,
                beta: &layer.out_beta,
                eps: self.eps,
            },
        )?;
        Ok(out)
    }
}
