//! One batch through the BERT encoder on the CPU (candle): pad to the batch's longest input,
//! run the model, mean-pool the last hidden states over the attention mask, L2-normalise.

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config, HiddenAct};

/// The loaded encoder.
pub(crate) struct Bert {
    model: BertModel,
}

impl Bert {
    /// Builds the model from `config.json` and the safetensors weights (already verified).
    pub(crate) fn load(config: &[u8], weights: Vec<u8>) -> Result<Self, String> {
        let config: Config = serde_json::from_slice(config).map_err(|e| format!("config.json: {e}"))?;
        if config.hidden_act != HiddenAct::Gelu {
            return Err(format!("config.json: hidden_act {:?}, expected exact gelu", config.hidden_act));
        }
        let weights = VarBuilder::from_buffered_safetensors(weights, DType::F32, &Device::Cpu)
            .map_err(|e| format!("model.safetensors: {e}"))?;
        let model = BertModel::load(weights, &config).map_err(|e| format!("model.safetensors: {e}"))?;
        Ok(Self { model })
    }

    /// Embeds one batch of token-id sequences (each non-empty, already truncated): one
    /// unit-length vector per sequence, in order.
    pub(crate) fn embed(&self, batch: &[&[u32]]) -> candle_core::Result<Vec<Vec<f32>>> {
        let rows = batch.len();
        let width = batch.iter().map(|ids| ids.len()).max().unwrap_or(0);
        let mut ids = vec![0u32; rows * width];
        let mut mask = vec![0u32; rows * width];
        for (r, sequence) in batch.iter().enumerate() {
            ids[r * width..r * width + sequence.len()].copy_from_slice(sequence);
            mask[r * width..r * width + sequence.len()].fill(1);
        }
        let device = Device::Cpu;
        let ids = Tensor::from_vec(ids, (rows, width), &device)?;
        let mask = Tensor::from_vec(mask, (rows, width), &device)?;
        let types = ids.zeros_like()?;
        let hidden = self.model.forward(&ids, &types, Some(&mask))?; // [rows, width, hidden]
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // [rows, width, 1]
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?; // [rows, hidden]
        let counts = mask.sum(1)?.clamp(1e-9, f64::INFINITY)?; // [rows, 1]
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::INFINITY)?;
        mean.broadcast_div(&norms)?.to_vec2::<f32>()
    }
}
