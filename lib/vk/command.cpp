#include "vk/command.h"

#include "vk/vk_check.h"

#include <exception>

namespace mlxmtp::detail {

namespace {
constexpr uint32_t kSetsPerPool = 256;
constexpr uint32_t kDescriptorsPerSet = 16;
}  // namespace

command_stream::command_stream(vk_device &dev) : dev_(dev), stage_(dev.next_serial()) {
    VkDevice d = dev.handle();
    VkCommandPoolCreateInfo pi{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pi.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pi.queueFamilyIndex = dev.queue_family();
    MLXMTP_VK_CHECK(vkCreateCommandPool(d, &pi, nullptr, &pool_));
    try {
        VkCommandBuffer cbs[kSlots];
        VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
        ai.commandPool = pool_;
        ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
        ai.commandBufferCount = kSlots;
        MLXMTP_VK_CHECK(vkAllocateCommandBuffers(d, &ai, cbs));
        for (uint32_t i = 0; i < kSlots; ++i) {
            slots_[i].cb = cbs[i];
            VkFenceCreateInfo fi{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
            MLXMTP_VK_CHECK(vkCreateFence(d, &fi, nullptr, &slots_[i].fence));
        }
    } catch (...) {
        for (slot &s : slots_)
            if (s.fence) vkDestroyFence(d, s.fence, nullptr);
        vkDestroyCommandPool(d, pool_, nullptr);
        throw;
    }
    cb_ = slots_[0].cb;
}

command_stream::~command_stream() {
    VkDevice d = dev_.handle();
    if (recording_) vkEndCommandBuffer(cb_);
    for (slot &s : slots_)
        if (s.pending) vkWaitForFences(d, 1, &s.fence, VK_TRUE, UINT64_MAX);
    for (VkDescriptorPool p : desc_pools_) vkDestroyDescriptorPool(d, p, nullptr);
    if (queries_) vkDestroyQueryPool(d, queries_, nullptr);
    for (slot &s : slots_)
        if (s.fence) vkDestroyFence(d, s.fence, nullptr);
    if (pool_) vkDestroyCommandPool(d, pool_, nullptr);
}

void command_stream::begin_if_needed() {
    if (recording_) return;
    if (dev_.lost()) fail(MLXMTP_ERR_DEVICE_LOST, "the device was lost");
    VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    MLXMTP_VK_CHECK(vkBeginCommandBuffer(cb_, &bi));
    recording_ = true;
    if (after_flush_) {
        // Orders this part after the flushed ones (a barrier's first scope
        // covers everything earlier in submission order on the queue).
        after_flush_ = false;
        barrier();
    }
    if (profile_) {
        record_start_ = std::chrono::steady_clock::now();
        vkCmdResetQueryPool(cb_, queries_, 0, query_cap_);
        query_used_ = 0;
        query_labels_.clear();
        mark("start");
    }
}

void command_stream::set_profile(gpu_profile *p) {
    if (recording_) fail(MLXMTP_ERR_INTERNAL, "set_profile while recording");
    profile_ = p;
    if (p && !queries_) {
        query_cap_ = 16384;
        VkQueryPoolCreateInfo qi{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
        qi.queryType = VK_QUERY_TYPE_TIMESTAMP;
        qi.queryCount = query_cap_;
        MLXMTP_VK_CHECK(vkCreateQueryPool(dev_.handle(), &qi, nullptr, &queries_));
    }
}

void command_stream::mark(const char *what) {
    if (query_used_ >= query_cap_) return;  // later commands fold into the last entry
    vkCmdWriteTimestamp(cb_, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries_, query_used_++);
    query_labels_.push_back(std::string(section_) + "/" + what);
}

void command_stream::collect_profile() {
    if (query_used_ < 2) return;
    std::vector<uint64_t> ts(query_used_);
    MLXMTP_VK_CHECK(vkGetQueryPoolResults(dev_.handle(), queries_, 0, query_used_, ts.size() * 8, ts.data(), 8,
                                          VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
    const double us_per_tick = dev_.limits().timestampPeriod * 1e-3;
    for (uint32_t i = 1; i < query_used_; ++i) {
        gpu_profile::entry &e = profile_->entries[query_labels_[i]];
        e.gpu_us += double(ts[i] - ts[i - 1]) * us_per_tick;
        e.count += 1;
    }
    profile_->gpu_span_us += double(ts[query_used_ - 1] - ts[0]) * us_per_tick;
}

void command_stream::dispatch(const pipeline &p, std::initializer_list<buffer_span> buffers, const void *push,
                              uint32_t push_size, uint32_t gx, uint32_t gy, uint32_t gz) {
    dispatch_impl(p, buffers.begin(), buffers.size(), push, push_size, gx, gy, gz);
}

void command_stream::dispatch(const pipeline &p, const std::vector<buffer_span> &buffers, const void *push,
                              uint32_t push_size, uint32_t gx, uint32_t gy, uint32_t gz) {
    dispatch_impl(p, buffers.data(), buffers.size(), push, push_size, gx, gy, gz);
}

void command_stream::dispatch_impl(const pipeline &p, const buffer_span *buffers, size_t nbuf, const void *push,
                                   uint32_t push_size, uint32_t gx, uint32_t gy, uint32_t gz) {
    if (nbuf != p.binding_count)
        fail(MLXMTP_ERR_INTERNAL, "kernel %s binds %u buffers, %zu given", p.name.c_str(), p.binding_count, nbuf);
    if (push_size > kMaxPushConstantBytes || push_size % 4 != 0)
        fail(MLXMTP_ERR_INTERNAL, "kernel %s: bad push-constant size %u", p.name.c_str(), push_size);
    if (nbuf > kDescriptorsPerSet) fail(MLXMTP_ERR_INTERNAL, "too many bindings");
    const VkDeviceSize max_range = dev_.max_binding_range();
    VkDescriptorBufferInfo infos[kDescriptorsPerSet];
    VkWriteDescriptorSet writes[kDescriptorsPerSet];
    for (size_t i = 0; i < nbuf; ++i) {
        const buffer_span &b = buffers[i];
        if (!b.valid()) fail(MLXMTP_ERR_INTERNAL, "kernel %s: binding %zu is empty", p.name.c_str(), i);
        if (b.size > max_range)
            fail(MLXMTP_ERR_DEVICE_OUT_OF_MEMORY,
                 "kernel %s: binding %zu spans %llu bytes, over the device's maxStorageBufferRange (%llu)",
                 p.name.c_str(), i, static_cast<unsigned long long>(b.size),
                 static_cast<unsigned long long>(max_range));
        infos[i] = {b.buffer, b.offset, b.size};
        writes[i] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
        writes[i].dstBinding = static_cast<uint32_t>(i);
        writes[i].descriptorCount = 1;
        writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        writes[i].pBufferInfo = &infos[i];
    }
    begin_if_needed();
    vkCmdBindPipeline(cb_, VK_PIPELINE_BIND_POINT_COMPUTE, p.handle);
    uint32_t nb = static_cast<uint32_t>(nbuf);
    if (nb > 0) {
        if (dev_.push_descriptors()) {
            dev_.push_descriptor_fn()(cb_, VK_PIPELINE_BIND_POINT_COMPUTE, p.layout, 0, nb, writes);
        } else {
            if (desc_pools_.empty() || desc_pool_used_ >= kSetsPerPool) {
                VkDescriptorPoolSize ps{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kSetsPerPool * kDescriptorsPerSet};
                VkDescriptorPoolCreateInfo pci{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
                pci.maxSets = kSetsPerPool;
                pci.poolSizeCount = 1;
                pci.pPoolSizes = &ps;
                VkDescriptorPool pool;
                MLXMTP_VK_CHECK(vkCreateDescriptorPool(dev_.handle(), &pci, nullptr, &pool));
                desc_pools_.push_back(pool);
                desc_pool_used_ = 0;
            }
            VkDescriptorSetAllocateInfo ai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
            ai.descriptorPool = desc_pools_.back();
            ai.descriptorSetCount = 1;
            ai.pSetLayouts = &p.set_layout;
            VkDescriptorSet set;
            MLXMTP_VK_CHECK(vkAllocateDescriptorSets(dev_.handle(), &ai, &set));
            ++desc_pool_used_;
            for (uint32_t i = 0; i < nb; ++i) writes[i].dstSet = set;
            vkUpdateDescriptorSets(dev_.handle(), nb, writes, 0, nullptr);
            vkCmdBindDescriptorSets(cb_, VK_PIPELINE_BIND_POINT_COMPUTE, p.layout, 0, 1, &set, 0, nullptr);
        }
    }
    if (push_size > 0) vkCmdPushConstants(cb_, p.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_size, push);
    vkCmdDispatch(cb_, gx, gy, gz);
    ++recorded_;
    if (profile_) mark(p.name.c_str());
}

void command_stream::barrier() {
    begin_if_needed();
    stage_ = dev_.next_serial();
    if (diag_no_barriers) return;
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                       VK_ACCESS_TRANSFER_WRITE_BIT;
    vkCmdPipelineBarrier(cb_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0,
                         nullptr, 0, nullptr);
}

void command_stream::copy(const buffer_span &src, const buffer_span &dst, uint64_t size) {
    if (size > src.size || size > dst.size) fail(MLXMTP_ERR_INTERNAL, "copy larger than its spans");
    begin_if_needed();
    VkBufferCopy c{src.offset, dst.offset, size};
    vkCmdCopyBuffer(cb_, src.buffer, dst.buffer, 1, &c);
    ++recorded_;
    if (profile_) mark("copy");
}

void command_stream::fill_zero(const buffer_span &dst) {
    begin_if_needed();
    vkCmdFillBuffer(cb_, dst.buffer, dst.offset, (dst.size + 3) / 4 * 4, 0);
    ++recorded_;
    if (profile_) mark("fill");
}

void command_stream::flush() {
    if (!recording_ || profile_) return;
    stage_ = dev_.next_serial();  // the next command buffer starts with a barrier
    recording_ = false;
    MLXMTP_VK_CHECK(vkEndCommandBuffer(cb_));
    try {
        dev_.submit_async(cb_, slots_[cur_].fence);
    } catch (...) {
        vkResetCommandBuffer(cb_, 0);
        wait_pending();
        recorded_ = 0;
        throw;
    }
    slots_[cur_].pending = true;
    after_flush_ = true;
    cur_ = (cur_ + 1) % kSlots;
    cb_ = slots_[cur_].cb;
    if (slots_[cur_].pending) {  // every slot in flight: reuse the oldest
        slots_[cur_].pending = false;
        dev_.wait_and_reset(slots_[cur_].fence);
        MLXMTP_VK_CHECK(vkResetCommandBuffer(cb_, 0));
    }
}

void command_stream::wait_pending() {
    // Waits for every flushed part even after an error (their resources must
    // not be reset while the GPU may still read them); reports the first error.
    std::exception_ptr first;
    for (uint32_t i = 0; i < kSlots; ++i) {
        slot &sl = slots_[i];
        if (!sl.pending) continue;
        sl.pending = false;
        try {
            dev_.wait_and_reset(sl.fence);
        } catch (...) {
            if (!first) first = std::current_exception();
        }
        vkResetCommandBuffer(sl.cb, 0);
    }
    after_flush_ = false;
    if (first) std::rethrow_exception(first);
}

void command_stream::claim_stage(uint64_t &last_stage, const char *what) const {
    if (last_stage == stage_) fail(MLXMTP_ERR_INTERNAL, "%s used by two dispatches with no barrier between them", what);
    last_stage = stage_;
}

void command_stream::submit() {
    stage_ = dev_.next_serial();
    if (!recording_) {
        wait_pending();
        return;
    }
    // Make device writes visible to the host before the fence signals.
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
    vkCmdPipelineBarrier(cb_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, nullptr, 0, nullptr);
    recording_ = false;
    MLXMTP_VK_CHECK(vkEndCommandBuffer(cb_));
    std::chrono::steady_clock::time_point t_submit = std::chrono::steady_clock::now();
    try {
        dev_.submit_and_wait(cb_, slots_[cur_].fence);
        wait_pending();
        if (profile_) {
            auto us = [](auto d) { return std::chrono::duration<double, std::micro>(d).count(); };
            profile_->record_cpu_us += us(t_submit - record_start_);
            profile_->submit_wait_us += us(std::chrono::steady_clock::now() - t_submit);
            profile_->submits += 1;
            collect_profile();
        }
    } catch (...) {
        vkResetCommandBuffer(cb_, 0);
        try {
            wait_pending();
        } catch (...) {
        }
        recorded_ = 0;
        throw;
    }
    MLXMTP_VK_CHECK(vkResetCommandBuffer(cb_, 0));
    for (VkDescriptorPool p : desc_pools_) vkResetDescriptorPool(dev_.handle(), p, 0);
    desc_pool_used_ = 0;
    if (desc_pools_.size() > 1) {  // keep one pool; free the overflow
        for (size_t i = 1; i < desc_pools_.size(); ++i) vkDestroyDescriptorPool(dev_.handle(), desc_pools_[i], nullptr);
        desc_pools_.resize(1);
    }
    recorded_ = 0;
}

}  // namespace mlxmtp::detail
