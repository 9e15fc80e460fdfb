"""HumanML3D joint-position arrays: (T, 22, 3) at the dataset's 20 fps."""
import numpy as np
import pytest

from motion3d.io import FormatError, humanml3d


def test_round_trip_and_constants(tmp_path):
    pos = np.random.default_rng(0).normal(size=(7, 22, 3))
    path = humanml3d.save(tmp_path / "000001.npy", pos)
    back = humanml3d.load(path)
    assert back.shape == (7, 22, 3) and back.dtype == np.float64
    np.testing.assert_allclose(back, pos.astype(np.float32), atol=0)
    assert humanml3d.FPS == 20.0 and len(humanml3d.NAMES) == 22 and humanml3d.PARENTS.shape == (22,)
    assert humanml3d.PARENTS[0] == -1 and (humanml3d.PARENTS[1:] < np.arange(1, 22)).all()


@pytest.mark.parametrize("shape", [(7, 21, 3), (7, 22), (22, 3), (0, 22, 3)])
def test_bad_shapes_name_the_file(tmp_path, shape):
    path = tmp_path / "bad.npy"
    np.save(path, np.zeros(shape, np.float32))
    with pytest.raises(FormatError, match="bad.npy") as e:
        humanml3d.load(path)
    assert "(T, 22, 3)" in str(e.value) or "no frames" in str(e.value)


def test_pickles_non_numbers_and_garbage_are_refused(tmp_path):
    obj = tmp_path / "obj.npy"
    np.save(obj, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(FormatError, match="obj.npy"):
        humanml3d.load(obj)
    txt = tmp_path / "text.npy"
    txt.write_text("not numpy")
    with pytest.raises(FormatError, match="text.npy"):
        humanml3d.load(txt)
    nan = tmp_path / "nan.npy"
    a = np.zeros((3, 22, 3))
    a[2, 5, 1] = np.nan
    np.save(nan, a)
    with pytest.raises(FormatError, match="frame 2"):
        humanml3d.load(nan)


def test_save_refuses_wrong_shape(tmp_path):
    with pytest.raises(FormatError, match="x.npy"):
        humanml3d.save(tmp_path / "x.npy", np.zeros((4, 3)))
